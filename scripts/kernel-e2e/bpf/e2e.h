/* e2e.h - what the BPF programs of e2e.bpf.c report to /init (init.c): the layout of
 * their one global variable, `out`, in the object's .bss map.  Included by both sides;
 * the BPF side gets __u64 etc. from vmlinux.h, /init from <linux/types.h>. */
#ifndef BTFKIT_E2E_H
#define BTFKIT_E2E_H
struct e2e_out {
	__u64 u64;		/* percpu_first: this CPU's cpu_loops_per_jiffy */
	__s32 s32;		/* percpu_preempt_count, direct_preempt_count: __preempt_count */
	__s32 pid;		/* percpu_current_task, on_task_rename: task->pid */
	__s32 target_pid;	/* on_task_rename: set by /init, the task whose rename counts */
	__u32 hits;		/* on_task_rename: renames of target_pid seen */
	char comm[16];		/* percpu_current_task: task->comm; on_task_rename: the old name */
	char comm2[16];		/* on_task_rename: the new name (the tracepoint's `comm` argument) */
};

/* What the module programs of mod.bpf.c report (their `mod_out`, in mod.bpf.o's .bss). */
struct e2e_mod_out {
	__u64 discard_pa_seq;	/* mod_percpu_ext4: this CPU's ext4 discard_pa_seq */
	__u64 dm_data;		/* mod_percpu_drop_monitor: this CPU's &dm_cpu_data ... */
	__u64 dm_queue;		/* ... &dm_cpu_data.drop_queue (by the module's BTF) ... */
	__u64 dm_queue_next;	/* ... and its .next: an empty sk_buff_head points to itself */
	__u64 dm_queue_prev;
	__u32 dm_qlen;
	__s32 target_pid;	/* set by /init: the task whose mount counts */
	__u32 fentry_hits;	/* fentry/ext4_get_tree */
	__u32 fexit_hits;	/* fexit/ext4_get_tree */
	__u64 stripe;		/* fentry: ((struct ext4_fs_context *)fc->fs_private)->s_stripe */
	__s64 fexit_ret;	/* fexit: ext4_get_tree's return value */
	char source[32];	/* fentry: fc->source */
};
#endif

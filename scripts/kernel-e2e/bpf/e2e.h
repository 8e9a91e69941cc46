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
#endif

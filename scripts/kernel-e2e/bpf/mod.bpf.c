// SPDX-License-Identifier: GPL-2.0
/* mod.bpf.c - BPF programs on module BTF (issue #15), run by /init after it has loaded
 * every module.  Compiled like e2e.bpf.c against vmlinux's vmlinux.h: the module types
 * are declared here with only the members used, and CO-RE (preserve_access_index)
 * relocates them against the module's BTF, which libbpf finds in the kernel's module BTF
 * objects (/sys/kernel/btf/<module>).  So every offset below comes from the module's
 * split BTF on the running kernel: btfkit's or pahole's.
 *
 *   mod_percpu_ext4          bpf_this_cpu_ptr(&discard_pa_seq): a per-CPU u64 of ext4
 *                            (fs/ext4/mballoc.c); the verifier takes it as per-CPU only if
 *                            its VAR is in the module's own .data..percpu DATASEC
 *   mod_percpu_drop_monitor  bpf_this_cpu_ptr(&dm_cpu_data): a per-CPU struct of a module
 *                            type (net/core/drop_monitor.c), read through the module's
 *                            BTF: its drop_queue, initialised empty at module init, must
 *                            point to itself
 *   mod_fentry, mod_fexit    fentry/fexit on ext4_get_tree (a static function of ext4.ko,
 *                            attached by its module BTF id through a BPF trampoline):
 *                            /init mounts a non-existent device as ext4 with stripe=4242;
 *                            the programs read fc->source and the module-typed
 *                            ((struct ext4_fs_context *)fc->fs_private)->s_stripe, and the
 *                            return value
 *   mod_direct_ext4          discard_pa_seq read directly: must be refused, as
 *                            direct_preempt_count on vmlinux
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "e2e.h"

char LICENSE[] SEC("license") = "GPL";

/* module types: only what is used; CO-RE finds the real layout in the module's BTF.
 * (-DE2E_EXT4_IN_VMLINUX_H: a host check, `init --test-mod`, on a kernel with ext4 built
 * in, whose vmlinux.h has ext4's types.) */
struct per_cpu_dm_data {
	struct sk_buff_head drop_queue;
} __attribute__((preserve_access_index));

#ifndef E2E_EXT4_IN_VMLINUX_H
struct ext4_fs_context {
	unsigned long s_stripe;
} __attribute__((preserve_access_index));
#endif

/* __weak: libbpf resolves every extern of the object, also those of programs not loaded;
 * a missing one then fails only the program that uses it */
extern __u64 discard_pa_seq __ksym __weak;		/* ext4.ko */
extern struct per_cpu_dm_data dm_cpu_data __ksym __weak;	/* drop_monitor.ko */

struct e2e_mod_out mod_out = {};

SEC("syscall")
int mod_percpu_ext4(void *ctx)
{
	__u64 *p = bpf_this_cpu_ptr(&discard_pa_seq);

	mod_out.discard_pa_seq = *p;
	return 0;
}

SEC("syscall")
int mod_percpu_drop_monitor(void *ctx)
{
	struct per_cpu_dm_data *p = bpf_this_cpu_ptr(&dm_cpu_data);

	mod_out.dm_data = (__u64)p;
	mod_out.dm_queue = (__u64)&p->drop_queue;
	mod_out.dm_queue_next = (__u64)p->drop_queue.next;
	mod_out.dm_queue_prev = (__u64)p->drop_queue.prev;
	mod_out.dm_qlen = p->drop_queue.qlen;
	return 0;
}

SEC("fentry/ext4_get_tree")
int BPF_PROG(mod_fentry, struct fs_context *fc)
{
	struct ext4_fs_context *c;

	if ((bpf_get_current_pid_tgid() >> 32) != mod_out.target_pid)
		return 0;
	mod_out.fentry_hits++;
	bpf_probe_read_kernel_str(mod_out.source, sizeof(mod_out.source), fc->source);
	c = (struct ext4_fs_context *)fc->fs_private;
	mod_out.stripe = BPF_CORE_READ(c, s_stripe);
	return 0;
}

SEC("fexit/ext4_get_tree")
int BPF_PROG(mod_fexit, struct fs_context *fc, int ret)
{
	if ((bpf_get_current_pid_tgid() >> 32) != mod_out.target_pid)
		return 0;
	mod_out.fexit_hits++;
	mod_out.fexit_ret = ret;
	return 0;
}

SEC("syscall")
int mod_direct_ext4(void *ctx)
{
	mod_out.discard_pa_seq = discard_pa_seq;
	return 0;
}

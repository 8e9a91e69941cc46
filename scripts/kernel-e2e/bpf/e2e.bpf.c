// SPDX-License-Identifier: GPL-2.0
/* e2e.bpf.c - the BPF programs /init runs on each kernel of scripts/kernel-e2e.sh.
 * Compiled per kernel with `clang -target bpf -O2 -g` against the vmlinux.h that
 * `btfkit dump --format c` made from THAT kernel's BTF.  /init loads one program at a
 * time (libbpf, autoload off for the others) and prints one verdict line for each.
 *
 * The per-CPU variables are typed ksyms: libbpf finds their VAR in the kernel's BTF and
 * the verifier (check_pseudo_btf_id) decides from the BTF whether the symbol is per-CPU:
 * only a VAR inside the FIRST DATASEC named ".data..percpu" is (find_btf_percpu_datasec).
 *   cpu_loops_per_jiffy  static, init/calibrate.c: in the first per-CPU DATASEC of every
 *                        variant (init/calibrate.o is the first object defining one)
 *   __preempt_count,     arch/x86/kernel/cpu/common.c: in a LATER per-CPU DATASEC of the
 *   current_task         plain per-object merge, in the one DATASEC of pahole -J and of
 *                        `btfkit dedup --kernel`
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "e2e.h"

char LICENSE[] SEC("license") = "GPL";

extern unsigned long cpu_loops_per_jiffy __ksym;
#ifdef E2E_PCPU_HOT
/* Linux 6.2 and later (x86; scripts/kernel-e2e/kver-6.12.sh): current_task and
 * __preempt_count are fields of one per-CPU struct pcpu_hot (DEFINE_PER_CPU_ALIGNED, so
 * in an object it sits in the .data..percpu..shared_aligned subsection). */
extern struct pcpu_hot pcpu_hot __ksym;
#else
extern int __preempt_count __ksym;
extern struct task_struct *current_task __ksym;
#endif

struct e2e_out out = {};

/* (a) control: a per-CPU variable in the first DATASEC; a positive loops-per-jiffy */
SEC("syscall")
int percpu_first(void *ctx)
{
	unsigned long *p = bpf_this_cpu_ptr(&cpu_loops_per_jiffy);

	out.u64 = *p;
	return 0;
}

/* (a) a per-CPU int outside the plain merge's first DATASEC.  A syscall program runs in
 * task context with nothing disabled, so the count is 0 and only x86's inverted
 * PREEMPT_NEED_RESCHED bit (0x80000000) is set, or clear if a reschedule is pending. */
SEC("syscall")
int percpu_preempt_count(void *ctx)
{
#ifdef E2E_PCPU_HOT
	struct pcpu_hot *h = bpf_this_cpu_ptr(&pcpu_hot);

	out.s32 = h->preempt_count;
#else
	int *p = bpf_this_cpu_ptr(&__preempt_count);

	out.s32 = *p;
#endif
	return 0;
}

/* (a) a per-CPU pointer outside the plain merge's first DATASEC: this CPU's current
 * task is the caller, /init (pid 1), whose name /init compares */
SEC("syscall")
int percpu_current_task(void *ctx)
{
#ifdef E2E_PCPU_HOT
	struct pcpu_hot *h = bpf_this_cpu_ptr(&pcpu_hot);
	struct task_struct *t = h->current_task;
#else
	struct task_struct **pp = bpf_this_cpu_ptr(&current_task);
	struct task_struct *t = *pp;
#endif

	out.pid = BPF_CORE_READ(t, pid);
	bpf_core_read_str(out.comm, sizeof(out.comm), &t->comm);
	return 0;
}

/* (b) attached by BTF (btf_trace_task_rename) to the task_rename tracepoint, reading its
 * typed arguments: /init renames itself with prctl(PR_SET_NAME) */
SEC("tp_btf/task_rename")
int BPF_PROG(on_task_rename, struct task_struct *task, const char *comm)
{
	if (task->pid != out.target_pid)
		return 0;
	out.hits++;
	out.pid = task->pid;
	bpf_probe_read_kernel_str(out.comm, sizeof(out.comm), task->comm);
	bpf_probe_read_kernel_str(out.comm2, sizeof(out.comm2), comm);
	return 0;
}

/* (c) a per-CPU variable read DIRECTLY, without bpf_this_cpu_ptr(): the address of a
 * per-CPU symbol is an offset into the per-CPU area, not a pointer, so the verifier must
 * refuse the load.  If the BPF says the variable is an ordinary global, it does not, and
 * running the program dereferences the offset. */
SEC("syscall")
int direct_preempt_count(void *ctx)
{
#ifdef E2E_PCPU_HOT
	out.s32 = pcpu_hot.preempt_count;
#else
	out.s32 = __preempt_count;
#endif
	return 0;
}

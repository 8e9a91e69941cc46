/* A BPF-style program built against the dumped vmlinux header. */
#include "vmlinux.h"

int prog(struct task_struct *t, struct pt_regs *regs)
{
	struct list_head *l = &t->tasks;
	u64 x = (u64)regs;
	__u32 pid = t->pid;

	return (int)(pid + (x != 0) + (l->next != 0) + BPF_MAP_TYPE_HASH);
}

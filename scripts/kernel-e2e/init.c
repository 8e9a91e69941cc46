/* init.c - /init of the kernel-e2e initramfs (static; libbpf, libelf and zlib linked in).
 *
 * 1. Mounts sysfs, reads /sys/kernel/btf/vmlinux, loads it with bpf(BPF_BTF_LOAD) and
 *    prints one verdict line on the console:
 *      BTFKIT-E2E: BTF_LOAD OK fd=N size=M
 *      BTFKIT-E2E: BTF_LOAD FAILED errno=E (strerror) size=M  + the verifier log
 * 2. If /bpf/e2e.bpf.o exists (scripts/kernel-e2e/bpf/e2e.bpf.c, compiled against this
 *    kernel's vmlinux.h), loads its programs one at a time with libbpf and prints one
 *    line per program, the direct per-CPU read last because it may crash the kernel:
 *      BTFKIT-E2E: PROG <name> OK <values>          loaded, ran, values make sense
 *      BTFKIT-E2E: PROG <name> BAD <values>         loaded, ran, values do not
 *      BTFKIT-E2E: PROG <name> REFUSED errno=E: <the verifier's last message>
 *      BTFKIT-E2E: PROG <name> ERROR <what>         anything else (open, attach, run)
 *      BTFKIT-E2E: PROG direct_preempt_count ACCEPTED, running it
 *      BTFKIT-E2E: DONE
 *    scripts/kernel-e2e.sh judges these lines per variant.
 * 3. Modules (issue #15), before step 2's programs: loads every module of /modules.list
 *    (dependencies first) with finit_module, then checks each one's BTF:
 *      BTFKIT-E2E: MODULES loaded K of N
 *      BTFKIT-E2E: MODULE <name> OK btf_size=S id=I types=T (split over vmlinux's V)
 *      BTFKIT-E2E: MODULE <name> LOAD_FAILED|NO_BTF|BAD <why>
 *    runs the programs of /bpf/mod.bpf.o (module per-CPU variables, fentry/fexit on an
 *    ext4 function, module types through CO-RE), one PROG line each as above, and prints
 *    the kernel log's lines that mention BTF ("BTFKIT-E2E: DMESG ...").
 * 4. Reboots (qemu -no-reboot exits).
 *
 * `init --test FILE.bpf.o` runs only step 2 on the running kernel, without mounting or
 * rebooting (a check of the programs on the build host); `init --test-mod mod.bpf.o` the
 * module programs of step 3 (on a host whose ext4 is built in, its BTF is vmlinux's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpf/e2e.h"

static char logbuf[16 << 20], logbuf2[1 << 20];
static char line[4096];
static int test_only;

static void out(const char *s) { (void)!write(1, s, strlen(s)); }

static void say(const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(line, sizeof line, "BTFKIT-E2E: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - n, fmt, ap);
	va_end(ap);
	strncat(line, "\n", sizeof line - strlen(line) - 1);
	out(line);
}

/* The config has no ACPI, so RB_POWER_OFF would only halt the CPU and leave qemu
 * running: reboot instead, and qemu (-no-reboot) exits. */
static void finish(void)
{
	if (test_only)
		exit(0);
	sync();
	reboot(RB_AUTOBOOT);
	reboot(RB_POWER_OFF);
	for (;;) pause();
}

/* ------------------------------------------------------------------ BTF_LOAD */
static void btf_load(void)
{
	int bfd = open("/sys/kernel/btf/vmlinux", O_RDONLY);
	if (bfd < 0) {
		say("BTF_LOAD FAILED open /sys/kernel/btf/vmlinux: %s", strerror(errno));
		finish();
	}
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len == cap) buf = realloc(buf, cap *= 2);
		ssize_t n = read(bfd, buf + len, cap - len);
		if (n < 0) {
			say("BTF_LOAD FAILED read: %s", strerror(errno));
			finish();
		}
		if (n == 0) break;
		len += n;
	}
	close(bfd);
	say("read /sys/kernel/btf/vmlinux: %zu bytes", len);

	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.btf = (unsigned long)buf;
	attr.btf_size = len;
	/* No log on the first try: the kernel rejects a log buffer with log_level 0
	 * (EINVAL).  On failure the load is retried with a level 1 log. */
	int f = syscall(__NR_bpf, BPF_BTF_LOAD, &attr, sizeof attr);
	if (f >= 0) {
		say("BTF_LOAD OK fd=%d size=%zu", f, len);
		close(f);
	} else {
		int e = errno;
		attr.btf_log_buf = (unsigned long)logbuf;
		attr.btf_log_size = sizeof logbuf;
		attr.btf_log_level = 1;
		logbuf[0] = 0;
		int f2 = syscall(__NR_bpf, BPF_BTF_LOAD, &attr, sizeof attr);
		if (f2 >= 0)
			say("(a retry with a verifier log loaded it: fd=%d)", f2);
		say("BTF_LOAD FAILED errno=%d (%s) size=%zu", e, strerror(e), len);
		out("BTFKIT-E2E: verifier log (last 4 KiB):\n");
		size_t ll = strlen(logbuf);
		out(ll > 4096 ? logbuf + ll - 4096 : logbuf);
		out("\nBTFKIT-E2E: end of log\n");
	}
	free(buf);
}

/* ------------------------------------------------------------------ BPF programs */
static const char *bpf_path = "/bpf/e2e.bpf.o";

/* libbpf's own messages: warnings only, each prefixed, without the verifier log it
 * repeats on a failed load (the verdict line quotes the log's last message). */
static int in_log;
static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char b[1024];
	if (level != LIBBPF_WARN)
		return 0;
	vsnprintf(b, sizeof b, fmt, ap);
	if (strstr(b, "-- BEGIN PROG LOAD LOG --")) { in_log = 1; return 0; }
	if (strstr(b, "-- END PROG LOAD LOG --")) { in_log = 0; return 0; }
	if (in_log)
		return 0;
	out("BTFKIT-E2E:   ");
	out(b);
	return 0;
}

/* The verifier's verdict: the last line of its log that is not the closing
 * "processed N insns ..." statistics line. */
static const char *verifier_message(const char *log)
{
	static char msg[512];
	const char *p = log, *best = "(empty verifier log)";
	size_t bestlen = strlen(best);
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n && strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17)) {
			best = p;
			bestlen = n;
		}
		if (!e) break;
		p = e + 1;
	}
	snprintf(msg, sizeof msg, "%.*s", (int)bestlen, best);
	return msg;
}

struct loaded {
	struct bpf_object *obj;
	struct bpf_program *prog, *prog2;
	struct bpf_map *bss;	/* the .bss map: the programs' `out` (mod.bpf.o: `mod_out`) */
	union {
		struct e2e_out o;	/* a copy of it (get_out/put_out) */
		struct e2e_mod_out m;
	};
};

/* The .bss map's one element.  (bpf_object__load does not mmap internal maps into the
 * caller, only the skeleton loader does: read and write them as map elements.) */
static int get_out(const char *name, struct loaded *l)
{
	int zero = 0;
	if (bpf_map__lookup_elem(l->bss, &zero, sizeof zero, &l->o, bpf_map__value_size(l->bss), 0)) {
		say("PROG %s ERROR read .bss: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

static int put_out(const char *name, struct loaded *l)
{
	int zero = 0;
	if (bpf_map__update_elem(l->bss, &zero, sizeof zero, &l->o, bpf_map__value_size(l->bss), 0)) {
		say("PROG %s ERROR write .bss: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

/* Opens object `path`, loads only program `name` (and `name2` if not NULL, e.g. an
 * fexit next to an fentry; l->prog2).  Its .bss map must be `bss_size` bytes.
 * Returns 0, or prints the verdict (REFUSED/ERROR) and returns -1. */
static int load_progs(const char *path, const char *name, const char *name2, size_t bss_size, struct loaded *l)
{
	memset(l, 0, sizeof *l);
	l->obj = bpf_object__open_file(path, NULL);
	if (!l->obj) {
		say("PROG %s ERROR open %s: %s", name, path, strerror(errno));
		return -1;
	}
	struct bpf_program *p;
	bpf_object__for_each_program(p, l->obj) {
		int me = !strcmp(bpf_program__name(p), name);
		int me2 = name2 && !strcmp(bpf_program__name(p), name2);
		bpf_program__set_autoload(p, me || me2);
		if (me)
			l->prog = p;
		if (me2)
			l->prog2 = p;
	}
	if (!l->prog || (name2 && !l->prog2)) {
		say("PROG %s ERROR no such program in %s", name, path);
		bpf_object__close(l->obj);
		return -1;
	}
	logbuf[0] = 0;
	bpf_program__set_log_buf(l->prog, logbuf, sizeof logbuf);
	bpf_program__set_log_level(l->prog, 1);
	if (l->prog2) {
		logbuf2[0] = 0;
		bpf_program__set_log_buf(l->prog2, logbuf2, sizeof logbuf2);
		bpf_program__set_log_level(l->prog2, 1);
	}
	if (bpf_object__load(l->obj)) {
		int e = errno;
		if (logbuf[0])
			say("PROG %s REFUSED errno=%d: %s", name, e, verifier_message(logbuf));
		else if (l->prog2 && logbuf2[0])
			say("PROG %s REFUSED errno=%d: %s: %s", name, e, name2, verifier_message(logbuf2));
		else
			say("PROG %s ERROR load (no verifier log): errno=%d (%s)", name, e, strerror(e));
		bpf_object__close(l->obj);
		return -1;
	}
	struct bpf_map *m;
	bpf_object__for_each_map(m, l->obj) {
		const char *mn = bpf_map__name(m);
		if (strlen(mn) >= 4 && !strcmp(mn + strlen(mn) - 4, ".bss") &&
		    bpf_map__value_size(m) == bss_size)
			l->bss = m;
	}
	if (!l->bss) {
		say("PROG %s ERROR no .bss map of %zu bytes", name, bss_size);
		bpf_object__close(l->obj);
		return -1;
	}
	return 0;
}

static int load_one(const char *name, struct loaded *l)
{
	return load_progs(bpf_path, name, NULL, sizeof(struct e2e_out), l);
}

static int run_syscall_prog(const char *name, struct loaded *l)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	if (bpf_prog_test_run_opts(bpf_program__fd(l->prog), &opts)) {
		say("PROG %s ERROR BPF_PROG_TEST_RUN: %s", name, strerror(errno));
		return -1;
	}
	if (opts.retval != 0) {
		say("PROG %s ERROR returned %u", name, opts.retval);
		return -1;
	}
	return get_out(name, l);
}

static void test_percpu_first(void)
{
	const char *name = "percpu_first";
	struct loaded l;
	if (load_one(name, &l)) return;
	if (!run_syscall_prog(name, &l)) {
		unsigned long long v = l.o.u64;
		say("PROG %s %s cpu_loops_per_jiffy=%llu", name, v > 0 ? "OK" : "BAD", v);
	}
	bpf_object__close(l.obj);
}

static void test_percpu_preempt_count(void)
{
	const char *name = "percpu_preempt_count";
	struct loaded l;
	if (load_one(name, &l)) return;
	if (!run_syscall_prog(name, &l)) {
		int v = l.o.s32;
		/* nothing disabled: all count bits 0; bit 31 is the inverted NEED_RESCHED */
		say("PROG %s %s __preempt_count=%d (0x%08x)", name,
		    ((unsigned)v & 0x7fffffffu) == 0 ? "OK" : "BAD", v, (unsigned)v);
	}
	bpf_object__close(l.obj);
}

static void test_percpu_current_task(void)
{
	const char *name = "percpu_current_task";
	struct loaded l;
	char comm[17] = "";
	if (load_one(name, &l)) return;
	prctl(PR_GET_NAME, comm);
	if (!run_syscall_prog(name, &l)) {
		int ok = l.o.pid == getpid() && !strncmp(l.o.comm, comm, 16);
		say("PROG %s %s current_task->pid=%d ->comm=\"%.16s\" (getpid()=%d, comm \"%s\")", name,
		    ok ? "OK" : "BAD", l.o.pid, l.o.comm, (int)getpid(), comm);
	}
	bpf_object__close(l.obj);
}

static void test_tp_btf(void)
{
	const char *name = "on_task_rename";
	const char *newname = "btfkit-e2e";
	struct loaded l;
	char old[17] = "";
	if (load_one(name, &l)) return;
	memset(&l.o, 0, sizeof l.o);
	l.o.target_pid = getpid();
	if (put_out(name, &l)) {
		bpf_object__close(l.obj);
		return;
	}
	struct bpf_link *link = bpf_program__attach(l.prog);
	if (!link) {
		say("PROG %s ERROR attach: %s", name, strerror(errno));
		bpf_object__close(l.obj);
		return;
	}
	prctl(PR_GET_NAME, old);
	prctl(PR_SET_NAME, newname);
	bpf_link__destroy(link);
	prctl(PR_SET_NAME, old);
	if (get_out(name, &l)) {
		bpf_object__close(l.obj);
		return;
	}
	int ok = l.o.hits == 1 && l.o.pid == getpid() && !strncmp(l.o.comm, old, 16) &&
		 !strcmp(l.o.comm2, newname);
	say("PROG %s %s hits=%u task->pid=%d task->comm=\"%.16s\" comm=\"%.16s\" (prctl(PR_SET_NAME) by pid %d: \"%s\" -> \"%s\")",
	    name, ok ? "OK" : "BAD", l.o.hits, l.o.pid, l.o.comm, l.o.comm2, (int)getpid(), old, newname);
	bpf_object__close(l.obj);
}

/* Must be refused.  If it is not, it runs, and on a kernel whose BTF misplaces the
 * per-CPU variable it reads the per-CPU offset as an address: expect an oops. */
static void test_direct(void)
{
	const char *name = "direct_preempt_count";
	struct loaded l;
	if (load_one(name, &l)) return;
	say("PROG %s ACCEPTED, running it", name);
	if (!run_syscall_prog(name, &l))
		say("PROG %s RAN __preempt_count=%d", name, l.o.s32);
	bpf_object__close(l.obj);
}

static void bpf_tests(void)
{
	if (access(bpf_path, R_OK)) {
		say("no %s: BPF programs skipped", bpf_path);
		return;
	}
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &r);
	libbpf_set_print(print_fn);
	test_percpu_first();
	test_percpu_preempt_count();
	test_percpu_current_task();
	test_tp_btf();
	test_direct();
	say("DONE");
}


/* ------------------------------------------------------------------ modules (issue #15) */
/* /modules.list (made by scripts/kernel-e2e.sh from depmod's modules.dep): one module a
 * line, "<name> <path in the initramfs>", dependencies first. */
#define MAX_MODULES 256
static char mod_name[MAX_MODULES][64];
static int mod_loaded[MAX_MODULES];
static int n_mod;
static struct btf *vmlinux_btf;

/* The id of the kernel BTF object called `name` (a module's BTF is named after it), or 0. */
static __u32 kernel_btf_id(const char *name)
{
	__u32 id = 0;
	while (!bpf_btf_get_next_id(id, &id)) {
		int fd = bpf_btf_get_fd_by_id(id);
		if (fd < 0)
			continue;
		char nm[64] = "";
		struct bpf_btf_info info;
		__u32 len = sizeof info;
		memset(&info, 0, sizeof info);
		info.name = (unsigned long)nm;
		info.name_len = sizeof nm;
		int r = bpf_obj_get_info_by_fd(fd, &info, &len);
		close(fd);
		if (!r && info.kernel_btf && !strcmp(nm, name))
			return id;
	}
	return 0;
}

/* Loads every module with finit_module, then checks each one's BTF:
 *   BTFKIT-E2E: MODULE <name> OK btf_size=N id=I types=T (split over vmlinux's V)
 * btf_size is /sys/kernel/btf/<name>'s size (the .ko's .BTF, which the script compares),
 * id the kernel's BTF object of that name, types what libbpf's
 * btf__load_from_kernel_by_id_split() read from the kernel as split BTF over vmlinux's.
 * A module whose BTF the kernel refuses does not load at all (MODULE_ALLOW_BTF_MISMATCH
 * is off): "failed to validate module [<name>] BTF" on the console, LOAD_FAILED here. */
static void modules(void)
{
	FILE *f = fopen("/modules.list", "r");
	if (!f) {
		say("no /modules.list: no modules");
		return;
	}
	char path[512], name[64];
	while (n_mod < MAX_MODULES && fscanf(f, "%63s %511s", name, path) == 2) {
		snprintf(mod_name[n_mod], sizeof mod_name[n_mod], "%s", name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			say("MODULE %s LOAD_FAILED open %s: %s", name, path, strerror(errno));
		} else if (syscall(__NR_finit_module, fd, "", 0)) {
			say("MODULE %s LOAD_FAILED finit_module: errno=%d (%s)", name, errno, strerror(errno));
			close(fd);
		} else {
			mod_loaded[n_mod] = 1;
			close(fd);
		}
		n_mod++;
	}
	fclose(f);
	int loaded = 0;
	for (int i = 0; i < n_mod; i++)
		loaded += mod_loaded[i];
	say("MODULES loaded %d of %d", loaded, n_mod);
	vmlinux_btf = btf__load_vmlinux_btf();
	if (!vmlinux_btf) {
		say("MODULES ERROR btf__load_vmlinux_btf: %s", strerror(errno));
		return;
	}
	__u32 base_cnt = btf__type_cnt(vmlinux_btf);
	for (int i = 0; i < n_mod; i++) {
		if (!mod_loaded[i])
			continue;
		const char *n = mod_name[i];
		char sp[128];
		struct stat st;
		snprintf(sp, sizeof sp, "/sys/kernel/btf/%s", n);
		if (stat(sp, &st)) {
			say("MODULE %s NO_BTF %s: %s", n, sp, strerror(errno));
			continue;
		}
		__u32 id = kernel_btf_id(n);
		if (!id) {
			say("MODULE %s BAD btf_size=%lld: no kernel BTF object named %s", n, (long long)st.st_size, n);
			continue;
		}
		struct btf *b = btf__load_from_kernel_by_id_split(id, vmlinux_btf);
		if (!b) {
			say("MODULE %s BAD btf_size=%lld id=%u: btf__load_from_kernel_by_id_split: %s", n,
			    (long long)st.st_size, id, strerror(errno));
			continue;
		}
		say("MODULE %s OK btf_size=%lld id=%u types=%u (split over vmlinux's %u)", n, (long long)st.st_size,
		    id, btf__type_cnt(b) - base_cnt, base_cnt - 1);
		btf__free(b);
	}
}

static const char *mod_bpf_path = "/bpf/mod.bpf.o";

static int mod_load(const char *name, const char *name2, struct loaded *l)
{
	return load_progs(mod_bpf_path, name, name2, sizeof(struct e2e_mod_out), l);
}

static void test_mod_percpu_ext4(void)
{
	const char *name = "mod_percpu_ext4";
	struct loaded l;
	if (mod_load(name, NULL, &l)) return;
	if (!run_syscall_prog(name, &l))
		/* any value: nothing has been discarded, so 0 is expected, but the point is that the
		 * verifier took the module's VAR as per-CPU and the read ran */
		say("PROG %s OK discard_pa_seq=%llu", name, (unsigned long long)l.m.discard_pa_seq);
	bpf_object__close(l.obj);
}

static void test_mod_percpu_drop_monitor(void)
{
	const char *name = "mod_percpu_drop_monitor";
	struct loaded l;
	if (mod_load(name, NULL, &l)) return;
	if (!run_syscall_prog(name, &l)) {
		/* skb_queue_head_init() at module init: an empty queue whose next and prev point to
		 * the queue itself; the program found the queue at the module BTF's offset */
		int ok = l.m.dm_queue_next == l.m.dm_queue && l.m.dm_queue_prev == l.m.dm_queue &&
			 l.m.dm_qlen == 0 && l.m.dm_data && l.m.dm_queue >= l.m.dm_data;
		say("PROG %s %s this_cpu(dm_cpu_data)=0x%llx .drop_queue at +%llu: next=0x%llx prev=0x%llx qlen=%u", name,
		    ok ? "OK" : "BAD", (unsigned long long)l.m.dm_data,
		    (unsigned long long)(l.m.dm_queue - l.m.dm_data), (unsigned long long)l.m.dm_queue_next,
		    (unsigned long long)l.m.dm_queue_prev, l.m.dm_qlen);
	}
	bpf_object__close(l.obj);
}

static void test_mod_fentry(void)
{
	const char *name = "mod_fentry";
	const char *dev = "/e2e-no-such-dev";
	struct loaded l;
	if (mod_load(name, "mod_fexit", &l)) return;
	memset(&l.m, 0, sizeof l.m);
	l.m.target_pid = getpid();
	if (put_out(name, &l)) {
		bpf_object__close(l.obj);
		return;
	}
	struct bpf_link *k1 = bpf_program__attach(l.prog);
	if (!k1) {
		say("PROG %s ERROR attach: %s", name, strerror(errno));
		bpf_object__close(l.obj);
		return;
	}
	struct bpf_link *k2 = bpf_program__attach(l.prog2);
	if (!k2) {
		say("PROG %s ERROR attach mod_fexit: %s", name, strerror(errno));
		bpf_link__destroy(k1);
		bpf_object__close(l.obj);
		return;
	}
	mkdir("/mnt", 0755);
	int r = mount(dev, "/mnt", "ext4", MS_RDONLY, "stripe=4242");
	int e = r ? errno : 0;
	if (!r)
		umount("/mnt");
	bpf_link__destroy(k2);
	bpf_link__destroy(k1);
	if (get_out(name, &l)) {
		bpf_object__close(l.obj);
		return;
	}
	int ok = l.m.fentry_hits == 1 && l.m.fexit_hits == 1 && !strcmp(l.m.source, dev) && l.m.stripe == 4242 &&
		 r && l.m.fexit_ret == -e;
	say("PROG %s %s fentry hits=%u fc->source=\"%.32s\" ext4_fs_context->s_stripe=%llu; fexit hits=%u ret=%lld "
	    "(mount(\"%s\", ext4, \"stripe=4242\") = %d errno=%d)",
	    name, ok ? "OK" : "BAD", l.m.fentry_hits, l.m.source, (unsigned long long)l.m.stripe, l.m.fexit_hits,
	    (long long)l.m.fexit_ret, dev, r, e);
	bpf_object__close(l.obj);
}

/* Must be refused (a per-CPU module variable read as if it were an address). */
static void test_mod_direct(void)
{
	const char *name = "mod_direct_ext4";
	struct loaded l;
	if (mod_load(name, NULL, &l)) return;
	say("PROG %s ACCEPTED, running it", name);
	if (!run_syscall_prog(name, &l))
		say("PROG %s RAN discard_pa_seq=%llu", name, (unsigned long long)l.m.discard_pa_seq);
	bpf_object__close(l.obj);
}

static void mod_bpf_tests(void)
{
	if (!n_mod || access(mod_bpf_path, R_OK))
		return;
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &r);
	libbpf_set_print(print_fn);
	test_mod_percpu_ext4();
	test_mod_percpu_drop_monitor();
	test_mod_fentry();
	test_mod_direct();
}

/* The kernel log's lines that mention BTF (case-insensitive), e.g. "failed to validate
 * module [x] BTF", each as "BTFKIT-E2E: DMESG <line>", then their count. */
static void dmesg_btf(void)
{
	static char kbuf[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, kbuf, sizeof kbuf - 1);
	if (n < 0) {
		say("DMESG ERROR klogctl: %s", strerror(errno));
		return;
	}
	kbuf[n] = 0;
	int c = 0;
	for (char *p = kbuf; *p;) {
		char *e = strchr(p, '\n');
		if (e)
			*e = 0;
		if (strcasestr(p, "btf")) {
			say("DMESG %s", p);
			c++;
		}
		if (!e)
			break;
		p = e + 1;
	}
	say("DMESG %d lines mention BTF", c);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--test")) {
		test_only = 1;
		bpf_path = argv[2];
		bpf_tests();
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--test-mod")) {	/* the module programs only */
		test_only = 1;
		mod_bpf_path = argv[2];
		n_mod = 1;
		mod_bpf_tests();
		return 0;
	}
	int fd = open("/dev/console", O_RDWR);
	if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); if (fd > 2) close(fd); }
	mkdir("/sys", 0755);
	mkdir("/proc", 0755);
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) && errno != EBUSY) {
		say("BTF_LOAD FAILED mount sysfs: %s", strerror(errno));
		finish();
	}
	mount("proc", "/proc", "proc", 0, NULL);
	btf_load();
	modules();
	mod_bpf_tests();
	dmesg_btf();
	bpf_tests();
	finish();
	return 0;
}

/* init.c - /init of the kernel-e2e initramfs (static, no libc beyond syscalls).
 * Mounts sysfs, reads /sys/kernel/btf/vmlinux, loads it with bpf(BPF_BTF_LOAD)
 * and prints one verdict line on the console, then reboots (qemu -no-reboot exits):
 *   BTFKIT-E2E: BTF_LOAD OK fd=N size=M
 *   BTFKIT-E2E: BTF_LOAD FAILED errno=E (strerror) size=M  + the verifier log
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char logbuf[16 << 20];

static void out(const char *s) { (void)!write(1, s, strlen(s)); }

/* The config has no ACPI, so RB_POWER_OFF would only halt the CPU and leave qemu
 * running: reboot instead, and qemu (-no-reboot) exits. */
static void finish(void)
{
	sync();
	reboot(RB_AUTOBOOT);
	reboot(RB_POWER_OFF);
	for (;;) pause();
}

int main(void)
{
	char line[512];
	int fd = open("/dev/console", O_RDWR);
	if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); if (fd > 2) close(fd); }
	mkdir("/sys", 0755);
	mkdir("/proc", 0755);
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) && errno != EBUSY) {
		snprintf(line, sizeof line, "BTFKIT-E2E: BTF_LOAD FAILED mount sysfs: %s\n", strerror(errno));
		out(line); finish();
	}
	mount("proc", "/proc", "proc", 0, NULL);
	int bfd = open("/sys/kernel/btf/vmlinux", O_RDONLY);
	if (bfd < 0) {
		snprintf(line, sizeof line, "BTFKIT-E2E: BTF_LOAD FAILED open /sys/kernel/btf/vmlinux: %s\n", strerror(errno));
		out(line); finish();
	}
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len == cap) buf = realloc(buf, cap *= 2);
		ssize_t n = read(bfd, buf + len, cap - len);
		if (n < 0) {
			snprintf(line, sizeof line, "BTFKIT-E2E: BTF_LOAD FAILED read: %s\n", strerror(errno));
			out(line); finish();
		}
		if (n == 0) break;
		len += n;
	}
	close(bfd);
	snprintf(line, sizeof line, "BTFKIT-E2E: read /sys/kernel/btf/vmlinux: %zu bytes\n", len);
	out(line);

	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.btf = (unsigned long)buf;
	attr.btf_size = len;
	/* No log on the first try: the kernel rejects a log buffer with log_level 0
	 * (EINVAL).  On failure the load is retried with a level 1 log. */
	int f = syscall(__NR_bpf, BPF_BTF_LOAD, &attr, sizeof attr);
	if (f >= 0) {
		snprintf(line, sizeof line, "BTFKIT-E2E: BTF_LOAD OK fd=%d size=%zu\n", f, len);
		out(line);
	} else {
		int e = errno;
		attr.btf_log_buf = (unsigned long)logbuf;
		attr.btf_log_size = sizeof logbuf;
		attr.btf_log_level = 1;
		logbuf[0] = 0;
		int f2 = syscall(__NR_bpf, BPF_BTF_LOAD, &attr, sizeof attr);
		if (f2 >= 0) {
			snprintf(line, sizeof line, "BTFKIT-E2E: (a retry with a verifier log loaded it: fd=%d)\n", f2);
			out(line);
		}
		snprintf(line, sizeof line, "BTFKIT-E2E: BTF_LOAD FAILED errno=%d (%s) size=%zu\n", e, strerror(e), len);
		out(line);
		out("BTFKIT-E2E: verifier log (last 4 KiB):\n");
		size_t ll = strlen(logbuf);
		out(ll > 4096 ? logbuf + ll - 4096 : logbuf);
		out("\nBTFKIT-E2E: end of log\n");
	}
	finish();
	return 0;
}

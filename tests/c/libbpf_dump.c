/* Oracle for `btfkit dump --root`: bpftool 7.1's dump_btf_c() with root ids,
 * on the system libbpf (bpftool 7.1 cannot take root ids for `file`).
 * Usage: libbpf_dump FILE [BASE|-] ID... */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

static void out(void *ctx, const char *fmt, va_list args)
{
	vfprintf(stdout, fmt, args);
}

int main(int argc, char **argv)
{
	struct btf *base = NULL, *btf;
	struct btf_dump *d;
	int i;

	if (argc < 4)
		return 2;
	if (strcmp(argv[2], "-") != 0) {
		base = btf__parse(argv[2], NULL);
		if (!base)
			return 3;
	}
	btf = btf__parse_split(argv[1], base);
	if (!btf)
		return 3;
	d = btf_dump__new(btf, out, NULL, NULL);
	if (!d)
		return 4;
	printf("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
	printf("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n");
	printf("#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n");
	printf("#endif\n\n");
	for (i = 3; i < argc; i++)
		if (btf_dump__dump_type(d, strtoul(argv[i], NULL, 0)))
			return 5;
	printf("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n");
	return 0;
}

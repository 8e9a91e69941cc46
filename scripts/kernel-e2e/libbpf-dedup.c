// libbpf-dedup.c - FALLBACK for kernel-e2e.sh when `btfkit dedup` is not available.
// A copy of ../shared/fixtures/kernel-archive/oracle.c (libbpf btf__add_btf + btf__dedup of a raw BTF archive).
// oracle.c - libbpf reference merge of a "BTF archive" (back-to-back raw BTF
// blobs, as produced by an unmodified linker concatenating per-object .BTF
// sections).  Walks the members, btf__new() each, btf__add_btf() them all
// into the first one, btf__dedup() the result and writes btf__raw_data().
//
// build: gcc -O2 -Wall -o oracle oracle.c -lbpf -lelf -lz
// usage: oracle ARCHIVE.btf OUT.btf [--exclude-last]
//   --exclude-last: leave out the last member (in a kernel build that is the full
//   vmlinux BTF which link-vmlinux.sh's pahole step appends after all objects)
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int exclude_last = argc == 4 && !strcmp(argv[3], "--exclude-last");
	if (argc != 3 && !exclude_last) {
		fprintf(stderr, "usage: %s ARCHIVE.btf OUT.btf [--exclude-last]\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) { perror(argv[1]); return 1; }
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(size);
	if (!buf || fread(buf, 1, size, f) != (size_t)size) { perror("read"); return 1; }
	fclose(f);

	struct btf *dst = NULL;
	long off = 0, padding = 0, nmembers = 0, input_types = 0;
	double t0 = now();
	while (off < size) {
		/* skip zero padding the linker may have inserted between members */
		if (buf[off] == 0) { off++; padding++; continue; }
		if (size - off < (long)sizeof(struct btf_header)) {
			fprintf(stderr, "trailing garbage at %ld\n", off);
			return 1;
		}
		struct btf_header h;
		memcpy(&h, buf + off, sizeof(h));
		if (h.magic != BTF_MAGIC) {
			fprintf(stderr, "bad magic 0x%04x at offset %ld\n", h.magic, off);
			return 1;
		}
		uint64_t te = (uint64_t)h.type_off + h.type_len;
		uint64_t se = (uint64_t)h.str_off + h.str_len;
		long msz = h.hdr_len + (te > se ? te : se);
		if (off + msz > size) {
			fprintf(stderr, "member %ld at %ld overruns the file\n", nmembers, off);
			return 1;
		}
		if (exclude_last && off + msz == size) {
			printf("excluded last member %ld (offset %ld, %ld bytes)\n", nmembers, off, msz);
			break;
		}
		struct btf *m = btf__new(buf + off, msz);
		if (!m) {
			fprintf(stderr, "btf__new failed for member %ld at %ld: %s\n",
				nmembers, off, strerror(errno));
			return 1;
		}
		input_types += btf__type_cnt(m) - 1;
		if (!dst) {
			dst = m;
		} else {
			int id = btf__add_btf(dst, m);
			if (id < 0) {
				fprintf(stderr, "btf__add_btf failed for member %ld: %s\n",
					nmembers, strerror(-id));
				return 1;
			}
			btf__free(m);
		}
		nmembers++;
		off += msz;
	}
	if (!dst) { fprintf(stderr, "empty archive\n"); return 1; }
	double t1 = now();
	unsigned before = btf__type_cnt(dst) - 1;
	int err = btf__dedup(dst, NULL);
	if (err) { fprintf(stderr, "btf__dedup failed: %s\n", strerror(-err)); return 1; }
	double t2 = now();
	unsigned after = btf__type_cnt(dst) - 1;
	__u32 rsz;
	const void *raw = btf__raw_data(dst, &rsz);
	FILE *o = fopen(argv[2], "wb");
	if (!o || fwrite(raw, 1, rsz, o) != rsz || fclose(o)) { perror(argv[2]); return 1; }
	printf("members=%ld padding_bytes=%ld input_bytes=%ld input_types=%ld\n",
	       nmembers, padding, size, input_types);
	printf("types_after_add_btf=%u types_after_dedup=%u out_bytes=%u\n", before, after, rsz);
	printf("add_btf_secs=%.2f dedup_secs=%.2f\n", t1 - t0, t2 - t1);
	btf__free(dst);
	free(buf);
	return 0;
}

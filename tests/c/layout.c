/* Bitfields, packed structs, alignment, explicit padding, flexible arrays. */
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

struct bits {
	u32 a: 1;
	u32 b: 3;
	u32 : 4;
	u32 c: 9;
	u64 d: 40;
	u8 e;
	u16 f: 5;
	long g;
	int h: 2;
};

struct __attribute__((packed)) packed_s {
	char c;
	int i;
	long l;
	short s;
};

struct packed_tail {
	long l;
	char c;
} __attribute__((packed));

struct __attribute__((packed)) packed_bits {
	u8 a: 3;
	u32 b: 30;
	u16 c;
};

struct aligned_s {
	char c;
	int i __attribute__((aligned(16)));
	char d;
	long long q __attribute__((aligned(32)));
};

struct holes {
	char a;
	long b;
	char c;
	short d;
	char e[3];
	int f;
	char g;
};

struct flex {
	int len;
	char data[];
};

struct flex_aligned {
	short n;
	long items[];
};

union u {
	int i;
	char c[7];
	struct {
		short lo;
		short hi;
	} parts;
	long l;
};

struct empty {};

struct with_empty {
	int x;
	struct {} e;
	struct empty e2;
	union {} ue;
	int y;
};

struct padded_end {
	long a;
	char b;
	char pad[0];
} __attribute__((aligned(64)));

struct bits g_bits;
struct packed_s g_packed;
struct packed_tail g_packed_tail;
struct packed_bits g_packed_bits;
struct aligned_s g_aligned;
struct holes g_holes;
struct flex *g_flex;
struct flex_aligned *g_flex_aligned;
union u g_u;
struct with_empty g_with_empty;
struct padded_end g_padded_end;

/* 32-bit and 64-bit enums, signed values, odd sizes. */
enum small : unsigned char { S_A = 1, S_B = 255 };
enum sgn { NEG = -5, ZERO = 0, POS = 7 };
enum big64 { B_SMALL = 1, B_BIG = 0x123456789abcdefULL, B_MAX = 0xffffffffffffffffULL };
enum sbig64 { SB_NEG = -0x100000000LL, SB_POS = 0x100000000LL };
enum wide_small : unsigned long { W_A = 1, W_B = 2 };
enum short_e : short { SH_NEG = -1, SH_POS = 100 };
enum minint { MI = -2147483647 - 1, MA = 2147483647 };

struct uses_enums {
	enum small s;
	enum sgn g;
	enum big64 b;
	enum sbig64 sb;
	enum wide_small w;
	enum short_e sh;
	enum minint mi;
	enum { INNER_X = 3 } inner: 4;
};

struct uses_enums g_enums;

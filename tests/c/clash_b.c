struct foo {
	long b;
	char c;
};
enum ev2 { DUP = 3, ONLY_B = 4 };
enum ev { EV_OTHER = 9 };
typedef long dup_t;
struct bar {
	char y;
};
typedef struct foo foo_t;
struct foo g_foo_b;
enum ev2 g_ev_b;
enum ev g_ev_c;
dup_t g_dup_b;
struct bar g_bar_b;
foo_t g_foo_t;

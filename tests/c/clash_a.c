/* Linked with clash_b.c: same names, different types. */
struct foo {
	int a;
};
enum ev { DUP = 1, ONLY_A = 2 };
typedef int dup_t;
union bar {
	int x;
};
struct foo g_foo_a;
enum ev g_ev_a;
dup_t g_dup_a;
union bar g_bar_a;

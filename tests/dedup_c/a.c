#include "common.h"
struct node { struct node *next; u64 val; struct list *owner; };
struct point { int x, y; };
struct shape {
	enum color c;
	union { struct point p; int arr[2][3]; };
	struct { unsigned a:3, b:5; } bits;
	int (*cb)(struct shape *, const volatile char *);
	char __user *uptr;
	u32 tagged __tag("counter");
};
struct shape g_shape;
int sum(struct list *l __tag("list"), struct node *n) { return l->len + (int)n->val; }

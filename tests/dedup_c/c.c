#include "common.h"
/* a different struct point */
struct point { long x; };
struct node { struct node *next; u64 val; struct list *owner; };
struct shape {
	enum color c;
	union { struct point p; int arr[2][3]; };
	struct { unsigned a:3, b:5; } bits;
	int (*cb)(struct shape *, const volatile char *);
	char __user *uptr;
	u32 tagged __tag("counter");
};
struct shape g_shape2;
typedef struct node node_t;
node_t *first(struct list *l) { return l->head; }

#include "common.h"
/* struct node only declared here */
struct point { int x, y; };
struct shape;
struct holder { struct list l; struct shape *s; struct point pts[4]; };
struct holder g_holder;
int count(struct list *l) { return l->len; }

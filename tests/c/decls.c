/* Function pointers, arrays of them, typedefs of anonymous types, const and
 * volatile placement, forward-only structs, cycles through pointers. */
struct fwd_only;
union fwd_union;

struct node;
typedef struct node node_t;
struct node {
	node_t *next;
	struct node *prev;
	struct fwd_only *opaque;
	union fwd_union *uopaque;
	int (*cmp)(const node_t *, const node_t *);
};

struct a;
struct b {
	struct a *a;
	int x;
};
struct a {
	struct b b;
	struct b *pb;
	struct a *self;
};

typedef struct {
	int x, y;
} point_t;

typedef union {
	int i;
	float f;
} num_t;

typedef enum {
	RED,
	GREEN,
	BLUE,
} color_t;

typedef int (*handler_t)(void *ctx, int n);
typedef void (*vfn_t)(void);
typedef int vararg_fn_t(const char *fmt, ...);

struct callbacks {
	handler_t handlers[4];
	void (*on_event[3])(int, char *);
	int (*(*getter)(int))[8];
	void *(*alloc)(unsigned long size);
	vfn_t done;
	vararg_fn_t *printer;
	const char * const *names;
	volatile int * const vp;
	const volatile unsigned long cvl;
	char * restrict rp;
	int matrix[3][4][5];
	const int carr[2];
	struct {
		int nested_a;
		union {
			long nl;
			struct {
				char c1, c2;
			} nested_s;
		};
		enum { NA, NB = 5 } ne;
	} anon_member;
	struct {
		int q;
	} anon_arr[2];
	point_t pt;
	num_t num;
	color_t col;
};

typedef struct callbacks callbacks_t;
typedef callbacks_t *callbacks_p;
typedef const callbacks_t cc_t;

enum { TOP_LEVEL_A = 1, TOP_LEVEL_B = 2 };

int use_fn(struct callbacks *cb, node_t *n, struct a *a, callbacks_p p, cc_t *c)
{
	return cb != 0 && n != 0 && a != 0 && p != 0 && c != 0;
}

struct callbacks g_cb;
struct node g_node;
struct a g_a;
callbacks_p g_p;
cc_t *g_cc;
int g_top = TOP_LEVEL_A;
point_t g_points[2];

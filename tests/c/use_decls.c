/* A BPF-style program built against the header dumped from decls.o. */
#include "decls.h"

struct callbacks cb_copy;
node_t *head;

int prog(struct callbacks *cb, point_t *p)
{
	color_t c = BLUE;
	num_t n = { .i = 1 };
	int total = p->x + p->y + cb->anon_member.nested_a + n.i;

	if (cb->handlers[0])
		total += cb->handlers[0](cb, total);
	if (cb->anon_member.ne == NB)
		total += NA;
	total += (int)sizeof(struct a) + (int)sizeof(cb->matrix) + c;
	return total + head->cmp(head, head->next);
}

/* BTF type tags and decl tags (bpftool 7.1 prints type tags, not decl tags). */
#define __tag(x) __attribute__((btf_type_tag(x)))
#define __dtag(x) __attribute__((btf_decl_tag(x)))

struct tagged {
	int __tag("user") *uptr;
	int __tag("rcu") __tag("percpu") *multi;
	const char __tag("user") *cu;
	int plain __dtag("field_tag");
} __dtag("struct_tag");

typedef int __tag("tdtag") *tagged_ptr_t __dtag("typedef_tag");

int __dtag("func_tag") tagged_fn(struct tagged *t __dtag("param_tag"), tagged_ptr_t p)
{
	return t->plain + *p;
}

struct tagged g_tagged;
tagged_ptr_t g_tp;

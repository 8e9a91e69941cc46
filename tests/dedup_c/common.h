typedef unsigned int u32;
typedef unsigned long long u64;
struct node;
struct list { struct node *head; u32 len; };
enum color { RED, GREEN = 5, BLUE };
#define __user __attribute__((btf_type_tag("user")))
#define __tag(x) __attribute__((btf_decl_tag(x)))

// SPDX-License-Identifier: GPL-2.0
/* rkmod's C probe: proves a package builds plain C external modules. */
#include <linux/init.h>
#include <linux/module.h>

static int __init rkmod_probe_c_init(void)
{
	pr_info("rkmod C probe (init)\n");
	return 0;
}

static void __exit rkmod_probe_c_exit(void)
{
	pr_info("rkmod C probe (exit)\n");
}

module_init(rkmod_probe_c_init);
module_exit(rkmod_probe_c_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("rkmod C probe");

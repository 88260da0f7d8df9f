// SPDX-License-Identifier: GPL-2.0

//! @DESCRIPTION@ (Linux 6.10 to 6.12 module API: string module! values, Vec::push with GFP flags).

use kernel::prelude::*;

module! {
    type: @TYPE@,
    name: "@NAME@",
    author: "@AUTHOR@",
    description: "@DESCRIPTION@",
    license: "GPL",
}

struct @TYPE@ {
    numbers: Vec<i32>,
}

impl kernel::Module for @TYPE@ {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("@DESCRIPTION@ (init)\n");

        let mut numbers = Vec::new();
        for n in [72, 108, 200] {
            numbers.push(n, GFP_KERNEL)?;
        }

        Ok(@TYPE@ { numbers })
    }
}

impl Drop for @TYPE@ {
    fn drop(&mut self) {
        pr_info!("My numbers are {:?}\n", self.numbers);
        pr_info!("@DESCRIPTION@ (exit)\n");
    }
}

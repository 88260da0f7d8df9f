// SPDX-License-Identifier: GPL-2.0

//! @DESCRIPTION@ (Linux 6.1 module API: byte-string module! values, Vec::try_push).

use kernel::prelude::*;

module! {
    type: @TYPE@,
    name: b"@NAME@",
    author: b"@AUTHOR@",
    description: b"@DESCRIPTION@",
    license: b"GPL",
}

struct @TYPE@ {
    numbers: Vec<i32>,
}

impl kernel::Module for @TYPE@ {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("@DESCRIPTION@ (init)\n");

        let mut numbers = Vec::new();
        for n in [72, 108, 200] {
            numbers.try_push(n)?;
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

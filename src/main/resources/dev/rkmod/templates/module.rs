// SPDX-License-Identifier: GPL-2.0

//! @DESCRIPTION@ (Linux @API@).

use kernel::prelude::*;

module! {
    type: @TYPE@,
    name: @NAME_VALUE@,
    @AUTHOR_FIELD@,
    description: @DESCRIPTION_VALUE@,
    license: @LICENSE_VALUE@,
}

struct @TYPE@ {
    numbers: @VEC@<i32>,
}

impl kernel::Module for @TYPE@ {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("@DESCRIPTION@ (init)\n");

        let mut numbers = @VEC@::new();
        for n in [72, 108, 200] {
            numbers.@PUSH@?;
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

"""Site search: a static, sharded index that the theme's client reads in the browser."""

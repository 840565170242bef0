"""Pure logic: no I/O and no clock reads (time always comes from a ``Clock``)."""

"""Reading a plan file into one table model, one way: format readers → grid → table.

`model` holds the value types and limits; `cleaning` repairs cell text; each
`*_reader` turns one file format into grids; `headers` and `table` turn a grid into a
`PlanTable` of `SourceRow`s. `dondoc.plan_reader` is the facade that picks the tables.
"""

"""The mutation harness's own parts."""

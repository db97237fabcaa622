"""Reference implementations. The notebooks' solution regions are these functions, verbatim."""

"""Running lessons: the worker process, its runner, the cache, devices and benchmarks."""

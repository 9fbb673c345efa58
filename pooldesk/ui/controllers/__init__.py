"""Controllers wire views to the Qt-free core; they run coroutines on the qasync loop."""

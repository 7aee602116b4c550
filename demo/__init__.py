"""The demo story: seeds every app in order through its public services (make run, seed_demo)."""

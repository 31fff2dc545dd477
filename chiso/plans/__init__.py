"""Plans (kế hoạch, nghị quyết, …) and their targets (mục tiêu)."""

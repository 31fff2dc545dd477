"""The demo province: Lạng Sơn with its real communes and departments, plans with targets
for 2023–2026, and monthly data from 2022 to today with trends, noise and gaps."""

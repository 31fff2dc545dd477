"""Funding (kinh phí): programmes and projects, budget lines and their figures through the
yearly cycle (đề xuất, dự toán giao, phân bổ, giải ngân, quyết toán), the indicators
computed from them, and the funding roadmap a plan carries. Rules: docs/funding.md."""

"""The audit trail in the words people use: what was done ("Duyệt báo cáo định kỳ"), to
what, by whom, and which fields changed from what to what — never the action codes, table
names and column names chiso stores (issue 14: the page was English field names).

Each vocabulary is (Vietnamese, English). A word chiso has no label for yet is shown as the
code it is, marked as a code, and tests/test_web_language.py fails for the demo's events.
"""

from __future__ import annotations

Pair = tuple[str, str]

# What an event is about (its object_type).
OBJECTS: dict[str, Pair] = {
    "data_value": ("Số liệu", "Figure"),
    "import_batch": ("Tệp số liệu", "Data file"),
    "value_flag": ("Cảnh báo số liệu", "Data warning"),
    "submission": ("Báo cáo định kỳ", "Periodic report"),
    "data_set": ("Biểu mẫu báo cáo", "Reporting form"),
    "validation_rule": ("Quy tắc kiểm tra", "Validation rule"),
    "evidence": ("Minh chứng", "Evidence"),
    "task": ("Nhiệm vụ", "Task"),
    "task_month_report": ("Báo cáo tháng về nhiệm vụ", "Monthly task report"),
    "focus_area": ("Lĩnh vực nhiệm vụ", "Task area"),
    "meeting": ("Phiên họp", "Meeting"),
    "plan": ("Kế hoạch", "Plan"),
    "target": ("Mục tiêu", "Target"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "pillar": ("Trụ cột", "Pillar"),
    "reference_framework": ("Văn bản, mục tiêu quốc gia", "National document or target"),
    "org_unit": ("Đơn vị", "Unit"),
    "unit_kind": ("Loại đơn vị", "Unit kind"),
    "unit_lineage": ("Sáp nhập, chia tách đơn vị", "Unit merger or split"),
    "committee_name": ("Tên Ban Chỉ đạo", "Committee name"),
    "user": ("Tài khoản", "Account"),
    "api_token": ("Mã truy cập API", "API token"),
    "funding_programme": ("Chương trình, dự án", "Programme or project"),
    "funding_line": ("Dòng kinh phí", "Budget line"),
    "funding_figure": ("Số liệu kinh phí", "Funding figures"),
    "dti_framework": ("Bộ chỉ số DTI", "DTI framework"),
    "dti_result": ("Kết quả DTI", "DTI results"),
    "dti_assessment": ("Phiên tự đánh giá DTI", "DTI self-assessment"),
    "dti_criterion": ("Tiêu chí DTI", "DTI criterion"),
    "scoring_framework": ("Bộ tiêu chí chấm điểm", "Scoring rubric"),
    "scoring_assessment": ("Phiên chấm điểm", "Scoring round"),
    "report": ("Báo cáo", "Report"),
    "report_text": ("Nội dung báo cáo", "Report text"),
    "record_batch": ("Lô hồ sơ một cửa", "Batch of dossiers"),
    "record_procedure": ("Danh mục thủ tục hành chính", "Procedure list"),
    "extract_document": ("Tài liệu đọc tự động", "Document read"),
    "extract_proposal": ("Đề xuất từ tài liệu", "Proposal from a document"),
    "storage": ("Kho dữ liệu", "Storage"),
}

# What was done: an action's last part ("submission.approve" → "approve").
VERBS: dict[str, Pair] = {
    "create": ("Tạo", "Create"), "update": ("Sửa", "Update"), "edit": ("Sửa", "Edit"),
    "save": ("Lưu", "Save"), "delete": ("Xóa", "Delete"), "load": ("Nạp", "Load"),
    "import": ("Nhập từ tệp", "Import"), "upsert": ("Nhập", "Import"),
    "submit": ("Gửi", "Submit"), "approve": ("Duyệt", "Approve"),
    "return": ("Trả lại", "Return"), "reopen": ("Mở lại", "Reopen"),
    "edit_after_approval": ("Sửa sau khi duyệt", "Edit after approval"),
    "progress": ("Cập nhật tiến độ", "Update progress of"),
    "conclusion": ("Ghi kết luận", "Record a conclusion of"),
    "parents": ("Liên kết văn bản của", "Link the documents of"),
    "links": ("Liên kết", "Link"), "revise": ("Điều chỉnh", "Revise"),
    "open": ("Mở", "Open"), "generate": ("Lập", "Generate"),
    "recompute": ("Tính lại", "Recompute"), "ingest": ("Nạp", "Ingest"),
    "procedures": ("Nạp", "Load"), "detect": ("Phát hiện", "Detect"),
    "resolve": ("Xử lý", "Resolve"), "read": ("Đọc", "Read"), "add": ("Thêm", "Add"),
    "migrate": ("Chuyển", "Migrate"), "enable": ("Mở khóa", "Enable"),
    "disable": ("Khóa", "Disable"), "set_role": ("Đổi vai trò của", "Change the role of"),
    "revoke": ("Thu hồi", "Revoke"), "template_upload": ("Tải lên biểu mẫu Excel của",
                                                         "Upload the Excel form of"),
    "accept": ("Chấp nhận", "Accept"), "reject": ("Từ chối", "Reject"),
    "cancel": ("Hủy", "Cancel"), "done": ("Hoàn thành", "Complete"),
    "restore": ("Khôi phục", "Restore"),
}

# Whole actions that read better said in one phrase.
ACTIONS: dict[str, Pair] = {
    "login": ("Đăng nhập", "Signed in"),
    "logout": ("Đăng xuất", "Signed out"),
    "login.failed": ("Đăng nhập sai", "Failed sign-in"),
    "login.locked": ("Tạm khóa đăng nhập", "Sign-in locked"),
    "user.password_reset_by_admin": ("Quản trị đặt lại mật khẩu",
                                     "Password reset by an administrator"),
    "user.password_reset_requested": ("Yêu cầu đặt lại mật khẩu", "Password reset requested"),
    "user.password_reset": ("Đặt lại mật khẩu qua thư", "Password reset by e-mail"),
    "user.password_change": ("Đổi mật khẩu", "Password changed"),
    "values.upsert": ("Nhập số liệu", "Figures imported"),
    "values.import": ("Nhập tệp số liệu", "Data file imported"),
    "framework.create": ("Tạo khung mục tiêu quốc gia", "National framework created"),
    "framework_target.create": ("Tạo mục tiêu quốc gia", "National target created"),
    "reference_document.create": ("Nạp văn bản làm căn cứ", "Reference document loaded"),
    "collection.dhis2_import": ("Nhập số liệu từ DHIS2", "Figures imported from DHIS2"),
    "scoring.self": ("Tự chấm điểm tiêu chí", "Self-score a criterion"),
    "scoring.appraised": ("Thẩm định điểm tiêu chí", "Appraise a criterion's score"),
}

# Fields, as people know them.
FIELDS: dict[str, Pair] = {
    "status": ("Trạng thái", "Status"), "state": ("Tình trạng", "State"),
    "value": ("Giá trị", "Value"), "value_high": ("Giá trị trên", "Upper value"),
    "numerator": ("Tử số", "Numerator"), "denominator": ("Mẫu số", "Denominator"),
    "comment": ("Ghi chú", "Comment"), "note": ("Ghi chú", "Note"),
    "notes": ("Ghi chú", "Notes"), "source": ("Nguồn", "Source"),
    "inserted": ("Thêm mới", "Added"), "updated": ("Cập nhật", "Updated"),
    "unchanged": ("Không đổi", "Unchanged"), "reopened": ("Mở lại để duyệt", "Reopened"),
    "approved": ("Đã duyệt", "Approved"), "ignored": ("Bỏ qua", "Ignored"),
    "deleted": ("Đã xóa", "Deleted"), "period": ("Kỳ báo cáo", "Period"),
    "period_type": ("Loại kỳ", "Period type"), "calendar": ("Lịch kỳ báo cáo", "Calendar"),
    "due_days": ("Hạn nộp (ngày sau kỳ)", "Due (days after the period)"),
    "reminder_offsets": ("Ngày nhắc (so với hạn)", "Reminders (days from the due date)"),
    "units": ("Đơn vị báo cáo", "Reporting units"), "unit_kind": ("Loại đơn vị", "Unit kind"),
    "indicators": ("Chỉ tiêu", "Indicators"), "code": ("Mã", "Code"),
    "name": ("Tên", "Name"), "name_vi": ("Tên", "Name"), "name_en": ("Tên tiếng Anh",
                                                                       "English name"),
    "short_name": ("Tên ngắn", "Short name"), "title": ("Tiêu đề", "Title"),
    "title_vi": ("Tiêu đề", "Title"), "title_en": ("Tiêu đề tiếng Anh", "English title"),
    "kind": ("Loại", "Kind"), "year": ("Năm", "Year"), "years": ("Các năm", "Years"),
    "year_from": ("Từ năm", "From year"), "year_to": ("Đến năm", "To year"),
    "unit": ("Đơn vị", "Unit"), "unit_id": ("Đơn vị", "Unit"),
    "lead_unit_id": ("Đơn vị chủ trì", "Lead unit"), "scope_unit_id": ("Phạm vi", "Scope"),
    "owner_unit_id": ("Đơn vị quản lý", "Owner unit"),
    "parent_unit_id": ("Đơn vị cấp trên", "Parent unit"), "parent_id": ("Cấp trên", "Parent"),
    "indicator": ("Chỉ tiêu", "Indicator"), "indicator_id": ("Chỉ tiêu", "Indicator"),
    "plan": ("Kế hoạch", "Plan"), "plan_id": ("Kế hoạch", "Plan"),
    "parents": ("Văn bản thực hiện", "Documents implemented"),
    "target_date": ("Ngày đích", "Target date"), "comparator": ("So sánh", "Comparator"),
    "baseline_value": ("Giá trị xuất phát", "Baseline value"),
    "baseline_date": ("Ngày xuất phát", "Baseline date"), "trajectory": ("Lộ trình", "Trajectory"),
    "milestones": ("Mốc", "Milestones"), "pillar_code": ("Trụ cột", "Pillar"),
    "sort_order": ("Thứ tự", "Order"), "optional": ("Không bắt buộc", "Optional"),
    "unit_vi": ("Đơn vị tính", "Unit of measure"), "unit_en": ("Đơn vị tính (tiếng Anh)",
                                                                "Unit of measure (English)"),
    "definition_vi": ("Định nghĩa", "Definition"),
    "definition_en": ("Định nghĩa tiếng Anh", "English definition"),
    "direction": ("Chiều tốt", "Better when"), "decimals": ("Số chữ số thập phân", "Decimals"),
    "scale": ("Hệ số", "Scale"), "data_source": ("Nguồn số liệu", "Data source"),
    "legal_basis": ("Căn cứ", "Legal basis"), "active": ("Đang dùng", "Active"),
    "unit_aggregation": ("Cách cộng theo đơn vị", "Aggregation over units"),
    "time_aggregation": ("Cách cộng theo thời gian", "Aggregation over time"),
    "owner_unit_code": ("Đơn vị quản lý", "Owner unit"),
    "document_kind": ("Loại văn bản", "Document kind"), "issuer": ("Cơ quan ban hành",
                                                                   "Issuer"),
    "issued_on": ("Ngày ban hành", "Issued on"), "title_or_name": ("Tên", "Name"),
    "task": ("Nhiệm vụ", "Task"), "due_date": ("Hạn hoàn thành", "Due date"),
    "start_date": ("Ngày bắt đầu", "Start date"), "completed_on": ("Ngày hoàn thành",
                                                                   "Completed on"),
    "progress_pct": ("Tiến độ (%)", "Progress (%)"), "owner_id": ("Người theo dõi", "Owner"),
    "origin": ("Cấp giao", "Assigned by"), "version": ("Phiên bản", "Version"),
    "assigned_doc_number": ("Số hiệu văn bản giao", "Assigning document"),
    "assigned_doc_date": ("Ngày văn bản giao", "Assigning document date"),
    "expected_product": ("Sản phẩm", "Expected product"), "text": ("Nội dung", "Text"),
    "seq": ("Số thứ tự", "Number"), "held_on": ("Ngày họp", "Held on"),
    "username": ("Tên đăng nhập", "User name"), "role": ("Vai trò", "Role"),
    "full_name": ("Họ tên", "Full name"), "email": ("Thư điện tử", "E-mail"),
    "valid_from": ("Hiệu lực từ", "Valid from"), "valid_to": ("Hiệu lực đến", "Valid to"),
    "predecessor_id": ("Đơn vị cũ", "Former unit"), "successor_id": ("Đơn vị mới",
                                                                     "New unit"),
    "share": ("Tỷ lệ", "Share"), "event_date": ("Ngày hiệu lực", "Effective date"),
    "is_primary": ("Đơn vị kế thừa chính", "Main successor"),
    "units_inserted": ("Đơn vị thêm mới", "Units added"),
    "units_updated": ("Đơn vị cập nhật", "Units updated"),
    "units_unchanged": ("Đơn vị không đổi", "Units unchanged"),
    "lineage_inserted": ("Sáp nhập, chia tách thêm mới", "Mergers added"),
    "lineage_unchanged": ("Sáp nhập, chia tách không đổi", "Mergers unchanged"),
    "file": ("Tệp", "File"), "file_name": ("Tệp", "File"), "basis": ("Căn cứ", "Basis"),
    "framework": ("Bộ chỉ số", "Framework"), "criteria": ("Tiêu chí", "Criteria"),
    "self_score": ("Điểm tự đánh giá", "Self score"),
    "appraised_score": ("Điểm thẩm định", "Appraised score"),
    "max_points": ("Điểm tối đa", "Maximum points"), "owner": ("Người phụ trách", "Owner"),
    "deadline": ("Hạn", "Deadline"), "evidence": ("Minh chứng", "Evidence"),
    "evidence_refs": ("Tham chiếu minh chứng", "Evidence references"),
    "group_name": ("Nhóm", "Group"), "lead_unit_code": ("Đơn vị chủ trì", "Lead unit"),
    "sha256": ("Dấu kiểm tệp", "File checksum"),
    "rows_read": ("Số dòng đã đọc", "Rows read"), "rows_stored": ("Số dòng đã lưu",
                                                                  "Rows stored"),
    "rows_ignored": ("Số dòng bỏ qua", "Rows ignored"),
    "left": ("Vế trái", "Left side"), "right": ("Vế phải", "Right side"),
    "operator": ("Phép so sánh", "Operator"), "importance": ("Mức độ", "Importance"),
    "missing_strategy": ("Khi thiếu số liệu", "When figures are missing"),
    "message_vi": ("Thông báo", "Message"), "message_en": ("Thông báo tiếng Anh",
                                                           "English message"),
    "committee_vi": ("Tên Ban Chỉ đạo", "Committee"), "committee_en": ("Tên tiếng Anh",
                                                                       "English name"),
    "agency_vi": ("Cơ quan thường trực", "Standing agency"),
    "agency_en": ("Cơ quan thường trực (tiếng Anh)", "Standing agency (English)"),
    "agency_unit_code": ("Đơn vị thường trực", "Standing agency unit"),
    "short_vi": ("Tên ngắn", "Short name"), "short_en": ("Tên ngắn tiếng Anh",
                                                         "English short name"),
    "source_url": ("Nguồn", "Source"), "document_id": ("Văn bản", "Document"),
    "wording_vi": ("Nguyên văn", "Wording"), "position": ("Vị trí", "Position"),
    "monitoring_body": ("Cơ quan theo dõi", "Monitoring body"), "article": ("Điều khoản",
                                                                          "Article"),
    "amendment_note": ("Sửa đổi", "Amendment"), "amended_by_id": ("Sửa đổi bởi",
                                                                   "Amended by"),
    "reported_on": ("Ngày báo cáo", "Reported on"), "level": ("Cấp", "Level"),
    "key": ("Khóa", "Key"), "links": ("Liên kết", "Links"),
    "total_investment": ("Tổng mức đầu tư", "Total investment"),
    "decision_number": ("Số quyết định", "Decision number"),
    "decision_date": ("Ngày quyết định", "Decision date"),
    "illustrative": ("Số liệu minh họa", "Illustrative"), "procedures": ("Thủ tục",
                                                                        "Procedures"),
}

# Fields that hold a code: shown as a code, beside the field's name.
CODE_FIELDS = frozenset({
    "code", "unit", "plan", "indicator", "framework", "owner_unit_code", "agency_unit_code",
    "lead_unit_code", "key", "sha256", "file", "file_name", "parents", "assigned_doc_number",
    "decision_number", "left", "right"})
# Matching keys chiso keeps for itself: nothing a person reads.
HIDDEN_FIELDS = frozenset({"name_key", "search_key", "accent_key"})

# Values that are codes of chiso's vocabularies.
VALUES: dict[str, Pair] = {
    "draft": ("Đang nhập", "Draft"), "submitted": ("Đã gửi", "Submitted"),
    "returned": ("Bị trả lại", "Returned"), "approved": ("Đã duyệt", "Approved"),
    "open": ("Đang thực hiện", "Open"), "done": ("Hoàn thành", "Done"),
    "cancelled": ("Đã hủy", "Cancelled"), "not_started": ("Chưa thực hiện", "Not started"),
    "in_progress": ("Đang thực hiện", "In progress"),
    "needs_evidence": ("Cần bổ sung minh chứng", "Needs more evidence"),
    "central": ("Trung ương giao", "Assigned by the centre"),
    "province": ("Tỉnh giao", "Assigned by the province"),
    "commune": ("Xã giao", "Assigned by the commune"),
    "ratio": ("Tỷ lệ", "Ratio"), "count": ("Số lượng", "Count"), "amount": ("Số tiền",
                                                                            "Amount"),
    "score": ("Điểm", "Score"), "boolean": ("Có/không", "Yes/no"),
    "higher": ("Càng cao càng tốt", "Higher"), "lower": ("Càng thấp càng tốt", "Lower"),
    "band": ("Trong khoảng", "Band"), "sum": ("Cộng", "Sum"), "last": ("Số cuối kỳ", "Last"),
    "mean": ("Trung bình", "Mean"), "none": ("Không cộng", "None"),
    "ratio_of_sums": ("Tổng tử số / tổng mẫu số", "Ratio of sums"),
    "weighted_mean": ("Trung bình có trọng số", "Weighted mean"),
    "linear": ("Tuyến tính", "Linear"), "s_curve": ("Đường cong chữ S", "S-curve"),
    "milestones": ("Theo mốc", "Milestones"), "between": ("trong khoảng", "between"),
    "standard": ("Lịch thường (tháng dương lịch)", "Calendar months"),
    "nd09": ("Lịch Nghị định 09/2019 (15 tháng trước – 14)", "Nghị định 09/2019 cut-off"),
    "Y": ("Năm", "Year"), "S": ("6 tháng", "Half-year"), "Q": ("Quý", "Quarter"),
    "M": ("Tháng", "Month"), "merge": ("Sáp nhập", "Merger"), "split": ("Chia tách", "Split"),
    "rename": ("Đổi tên", "Rename"), "absorb": ("Nhập vào", "Absorption"),
    "quarterly": ("Họp quý", "Quarterly meeting"), "nothing": ("Không phát sinh", "Nothing"),
    "progress": ("Tiến độ", "Progress"), "project": ("Dự án", "Project"),
    "programme": ("Chương trình", "Programme"), "national": ("Trung ương", "National"),
    "high": ("Cao", "High"), "medium": ("Trung bình", "Medium"), "low": ("Thấp", "Low"),
    "skip_if_any_missing": ("Bỏ qua khi thiếu số liệu", "Skip when a figure is missing"),
    "demo": ("Dữ liệu minh họa", "Demo"), "form": ("Biểu mẫu", "Form"),
    "manual": ("Nhập tay", "Typed in"), "import": ("Nhập tệp", "File import"),
    "api": ("Giao diện lập trình (API)", "API"), "records": ("Hồ sơ một cửa", "Records"),
    "dhis2": ("Tệp DHIS2", "DHIS2 file"), "template": ("Biểu mẫu Excel", "Excel form"),
}

# Fields whose value names a row of another table, resolved to its name on the page.
UNIT_FIELDS = frozenset({"unit_id", "lead_unit_id", "scope_unit_id", "owner_unit_id",
                         "parent_unit_id", "predecessor_id", "successor_id"})
USER_FIELDS = frozenset({"owner_id"})
INDICATOR_FIELDS = frozenset({"indicator_id"})
PLAN_FIELDS = frozenset({"plan_id"})

# Internal jobs that change data, audited as system:<name>.
SYSTEM_JOBS: dict[str, Pair] = {
    "": ("Hệ thống", "System"),
    "setup": ("Hệ thống: khởi tạo", "System: set-up"),
    "reference": ("Hệ thống: nạp danh mục", "System: reference data"),
    "demo": ("Hệ thống: dựng dữ liệu minh họa", "System: demo builder"),
    "cli": ("Hệ thống: lệnh quản trị", "System: command line"),
    "job": ("Hệ thống: tác vụ nền", "System: background job"),
    "funding-indicators": ("Hệ thống: tính chỉ tiêu kinh phí", "System: funding indicators"),
    "task-recurrence": ("Hệ thống: nhiệm vụ định kỳ", "System: recurring tasks"),
    "storage-migrate": ("Hệ thống: chuyển kho dữ liệu", "System: storage migration"),
    "bench-load": ("Hệ thống: đo tải", "System: load benchmark"),
}


def pick(pair: Pair, locale: str) -> str:
    return pair[1] if locale == "en" else pair[0]


def object_label(object_type: str, locale: str) -> str | None:
    pair = OBJECTS.get(object_type)
    return pick(pair, locale) if pair else None


def action_label(action: str, object_type: str, locale: str) -> str | None:
    """'submission.approve' → 'Duyệt báo cáo định kỳ'; None when chiso has no words yet."""
    if action in ACTIONS:
        return pick(ACTIONS[action], locale)
    verb = VERBS.get(action.rpartition(".")[2])
    noun = OBJECTS.get(object_type)
    if verb is None or noun is None:
        return None
    return f"{pick(verb, locale)} {_lower_first(pick(noun, locale))}"


def _lower_first(text: str) -> str:
    """'Báo cáo định kỳ' → 'báo cáo định kỳ'; an acronym ('DTI', 'API') stays as it is."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def field_label(field: str, locale: str) -> str | None:
    pair = FIELDS.get(field)
    return pick(pair, locale) if pair else None


def value_label(value: str, locale: str) -> str | None:
    pair = VALUES.get(value)
    return pick(pair, locale) if pair else None


def actor_label(label: str, locale: str) -> str:
    """'system:demo' → 'Hệ thống: dựng dữ liệu minh họa'; a person's user name as it is."""
    if label != "system" and not label.startswith("system:"):
        return label
    job = label.partition(":")[2]
    pair = SYSTEM_JOBS.get(job)
    if pair is None:
        return f"{pick(SYSTEM_JOBS[''], locale)} ({job})"
    return pick(pair, locale)

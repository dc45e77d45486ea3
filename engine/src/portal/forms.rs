//! Data entry: one form per record kind (入库, 发血, 输血, 退血, 报废, 输血不良反应,
//! 库存). A submitted form becomes a one-record hospital document in JSON,
//! the same JSON `POST /api/v1/ingest/json` reads, and goes through the
//! same door ([`super::submit`]). The form does not validate on its own:
//! the document reader is the one judge, and its field errors
//! (`records[0].abo`) are put back beside the field, in Chinese, with what
//! the user typed kept.

use super::pages::{self, frame, render_status};
use super::session::PortalUser;
use super::{csrf, submit};
use crate::api::AppState;
use crate::documents::{Answer, Syntax};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::{context, Value as Ctx};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The kinds of record the portal has a form for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Receipt,
    Issue,
    Transfusion,
    Return,
    Discard,
    Reaction,
    Stock,
}

/// How a field is entered.
#[derive(Debug, Clone, Copy)]
enum Input {
    Text,
    Number,
    DateTime,
    Select(&'static [(&'static str, &'static str)]),
}

/// One form field; `name` is the document's JSON field name, so that the
/// reader's error paths name it directly.
#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    label: &'static str,
    input: Input,
    required: bool,
    hint: &'static str,
}

const fn field(name: &'static str, label: &'static str, input: Input, required: bool) -> Field {
    Field {
        name,
        label,
        input,
        required,
        hint: "",
    }
}

const fn hinted(field: Field, hint: &'static str) -> Field {
    Field { hint, ..field }
}

/// Canonical product codes with their usual Chinese names
/// (`domain/products.md`); the reader accepts the code.
const PRODUCTS: &[(&str, &str)] = &[
    ("RBC-LR", "去白细胞悬浮红细胞 (RBC-LR)"),
    ("RBC-SUSP", "悬浮红细胞 (RBC-SUSP)"),
    ("RBC-CONC", "浓缩红细胞 (RBC-CONC)"),
    ("RBC-WASH", "洗涤红细胞 (RBC-WASH)"),
    ("RBC-FTD", "冰冻解冻去甘油红细胞 (RBC-FTD)"),
    ("WB", "全血 (WB)"),
    ("PLT-APH", "单采血小板 (PLT-APH)"),
    ("PLT-WB", "浓缩血小板 (PLT-WB)"),
    ("PLS-FFP", "新鲜冰冻血浆 (PLS-FFP)"),
    ("PLS-FP", "冰冻血浆 (PLS-FP)"),
    ("PLS-VI", "病毒灭活血浆 (PLS-VI)"),
    ("CRYO", "冷沉淀凝血因子 (CRYO)"),
    ("GRAN-APH", "单采粒细胞 (GRAN-APH)"),
];
const ABO: &[(&str, &str)] = &[("A", "A"), ("B", "B"), ("O", "O"), ("AB", "AB")];
const RH: &[(&str, &str)] = &[("+", "阳性 (+)"), ("-", "阴性 (-)")];
const DISCARD_REASONS: &[(&str, &str)] = &[
    ("expired", "过期 (expired)"),
    ("damaged", "破损 (damaged)"),
    ("hemolysis", "溶血 (hemolysis)"),
    ("returned-late", "退回超时 (returned late)"),
    ("other", "其他 (other)"),
];
const SEVERITIES: &[(&str, &str)] = &[
    ("mild", "轻度 (mild)"),
    ("moderate", "中度 (moderate)"),
    ("severe", "重度 (severe)"),
    ("death", "死亡 (death)"),
];
/// Reaction types after WS 364 CV05.01.040 (febrile, allergic, haemolytic,
/// other).
const REACTION_TYPES: &[(&str, &str)] = &[
    ("febrile", "发热反应 (febrile)"),
    ("allergic", "过敏反应 (allergic)"),
    ("hemolytic", "溶血反应 (hemolytic)"),
    ("other", "其他 (other)"),
];
const MEASURES: &[(&str, &str)] = &[
    ("U", "单位 (U)"),
    ("mL", "毫升 (mL)"),
    ("dose", "治疗量 (dose)"),
];

const UNIT: Field = hinted(
    field("unit", "血袋号 (DIN)", Input::Text, true),
    "例如 W000026000001",
);
const PRODUCT: Field = field(
    "product",
    "血液成分 (Product)",
    Input::Select(PRODUCTS),
    true,
);
const AT: Field = field("at", "发生时间 (Time)", Input::DateTime, true);
const PATIENT: Field = hinted(
    field("patient", "患者编号 (Patient ID)", Input::Text, true),
    "住院号或本院患者编号，勿填姓名",
);

const RECEIPT_FIELDS: &[Field] = &[
    UNIT,
    PRODUCT,
    field("abo", "ABO 血型", Input::Select(ABO), false),
    field("rh", "RhD 血型", Input::Select(RH), false),
    field("volumeMl", "容量 (mL)", Input::Number, false),
    field("quantity", "数量 (Quantity)", Input::Number, false),
    field("expires", "失效时间 (Expires)", Input::DateTime, false),
    hinted(
        field("from", "来源机构代码 (From)", Input::Text, true),
        "血站代码，调剂时为调出医院代码",
    ),
    AT,
];
const ISSUE_FIELDS: &[Field] = &[
    UNIT,
    PRODUCT,
    PATIENT,
    field("ward", "病区 (Ward)", Input::Text, false),
    AT,
];
const TRANSFUSION_FIELDS: &[Field] = &[
    UNIT,
    PRODUCT,
    PATIENT,
    field("start", "开始时间 (Start)", Input::DateTime, true),
    field("end", "结束时间 (End)", Input::DateTime, true),
    field("volumeMl", "输注量 (mL)", Input::Number, false),
    hinted(
        field(
            "diagnosis",
            "主要诊断 ICD-10 (Diagnosis)",
            Input::Text,
            false,
        ),
        "可选，例如 D64.9",
    ),
];
const RETURN_FIELDS: &[Field] = &[
    UNIT,
    PRODUCT,
    field("reason", "退血原因 (Reason)", Input::Text, false),
    AT,
];
const DISCARD_FIELDS: &[Field] = &[
    UNIT,
    PRODUCT,
    field(
        "reason",
        "报废原因 (Reason)",
        Input::Select(DISCARD_REASONS),
        true,
    ),
    AT,
];
const REACTION_FIELDS: &[Field] = &[
    UNIT,
    PRODUCT,
    PATIENT,
    field(
        "reactionType",
        "反应类型 (Type)",
        Input::Select(REACTION_TYPES),
        true,
    ),
    field(
        "severity",
        "严重程度 (Severity)",
        Input::Select(SEVERITIES),
        true,
    ),
    field("outcome", "转归 (Outcome)", Input::Text, false),
    AT,
];
const STOCK_FIELDS: &[Field] = &[field("at", "盘点时间 (Time)", Input::DateTime, true)];
/// The columns of one stock line.
const STOCK_ITEM_FIELDS: &[Field] = &[
    field("product", "血液成分", Input::Select(PRODUCTS), true),
    field("abo", "ABO", Input::Select(ABO), false),
    field("rh", "RhD", Input::Select(RH), false),
    field("quantity", "数量", Input::Number, true),
    field("measure", "计量单位", Input::Select(MEASURES), true),
];
/// Stock lines offered on the form; empty ones are left out.
const STOCK_ROWS: usize = 8;

impl FormKind {
    pub const ALL: [FormKind; 7] = [
        FormKind::Receipt,
        FormKind::Issue,
        FormKind::Transfusion,
        FormKind::Return,
        FormKind::Discard,
        FormKind::Reaction,
        FormKind::Stock,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            FormKind::Receipt => "receipt",
            FormKind::Issue => "issue",
            FormKind::Transfusion => "transfusion",
            FormKind::Return => "return",
            FormKind::Discard => "discard",
            FormKind::Reaction => "reaction",
            FormKind::Stock => "stock",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            FormKind::Receipt => "入库 (Receipt)",
            FormKind::Issue => "发血 (Issue)",
            FormKind::Transfusion => "输血 (Transfusion)",
            FormKind::Return => "退血 (Return)",
            FormKind::Discard => "报废 (Discard)",
            FormKind::Reaction => "输血不良反应 (Reaction)",
            FormKind::Stock => "库存 (Stock)",
        }
    }

    pub fn parse(slug: &str) -> Option<FormKind> {
        FormKind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The document record type (`domain/hbx-document.md`).
    fn record_type(self) -> &'static str {
        match self {
            FormKind::Receipt => "Received",
            FormKind::Issue => "Issued",
            FormKind::Transfusion => "Transfused",
            FormKind::Return => "Returned",
            FormKind::Discard => "Discarded",
            FormKind::Reaction => "Reaction",
            FormKind::Stock => "Stock",
        }
    }

    fn fields(self) -> &'static [Field] {
        match self {
            FormKind::Receipt => RECEIPT_FIELDS,
            FormKind::Issue => ISSUE_FIELDS,
            FormKind::Transfusion => TRANSFUSION_FIELDS,
            FormKind::Return => RETURN_FIELDS,
            FormKind::Discard => DISCARD_FIELDS,
            FormKind::Reaction => REACTION_FIELDS,
            FormKind::Stock => STOCK_FIELDS,
        }
    }
}

/// The form field name of stock line `row`'s column `name`.
fn item_key(row: usize, name: &str) -> String {
    format!("items.{row}.{name}")
}

/// The one-record document body for a submitted form, and for a stock
/// report which form row each document item came from (empty rows are
/// skipped, so the indexes differ).
pub fn record(kind: FormKind, values: &HashMap<String, String>) -> (Value, Vec<usize>) {
    let mut record = Map::new();
    record.insert("type".into(), Value::String(kind.record_type().into()));
    for f in kind.fields() {
        if let Some(v) = values.get(f.name).filter(|v| !v.is_empty()) {
            // Values go as text: the reader parses numbers and times from
            // text the same way, and its messages quote what was typed.
            record.insert(f.name.into(), Value::String(v.clone()));
        }
    }
    let mut rows = Vec::new();
    if kind == FormKind::Stock {
        let mut items = Vec::new();
        for row in 0..STOCK_ROWS {
            let mut item = Map::new();
            for f in STOCK_ITEM_FIELDS {
                if let Some(v) = values.get(&item_key(row, f.name)).filter(|v| !v.is_empty()) {
                    item.insert(f.name.into(), Value::String(v.clone()));
                }
            }
            // A line with only a unit of measure chosen is still empty.
            let filled = item.keys().any(|k| k != "measure");
            if filled {
                items.push(Value::Object(item));
                rows.push(row);
            }
        }
        record.insert("items".into(), Value::Array(items));
    }
    (Value::Object(record), rows)
}

/// Where a reader error belongs on the form: the field's name (stock lines
/// as `items.ROW.field`), or `None` for the form as a whole.
pub fn form_field(path: &str, rows: &[usize]) -> Option<String> {
    let rest = path.strip_prefix("records[0].")?;
    if let Some(item) = rest.strip_prefix("items[") {
        let (index, field) = item.split_once("].")?;
        let row = rows.get(index.parse::<usize>().ok()?)?;
        return Some(item_key(*row, field));
    }
    (!rest.contains(['.', '['])).then(|| rest.to_string())
}

/// The reader's English message in Chinese, by what it says; a message we
/// do not know is shown as is after a Chinese lead.
pub fn chinese(message: &str) -> String {
    let known: &[(&str, &str)] = &[
        ("is required", "此项必填"),
        ("is not a blood group", "ABO 血型应为 A、B、O 或 AB"),
        ("is not an RhD value", "RhD 应为 阳性 (+) 或 阴性 (-)"),
        (
            "is not a known blood product",
            "无法识别的血液成分名称或代码",
        ),
        (
            "is not an ISO 8601 date-time",
            "时间格式应为 2026-11-25 08:30",
        ),
        ("is not a whole number", "应为 1 到 999999999 之间的整数"),
        ("is not a decimal number", "应为大于 0 的数字，例如 1.5"),
        ("is out of range", "数值超出范围"),
        ("is not a discard reason", "请选择报废原因"),
        ("is not a severity", "请选择严重程度"),
        ("is not a measure", "请选择计量单位 (U、mL 或 dose)"),
        ("at least one", "请至少填写一行"),
        ("is not a valid", "格式无效"),
    ];
    known
        .iter()
        .find(|(english, _)| message.contains(english))
        .map(|(_, chinese)| chinese.to_string())
        .unwrap_or_else(|| format!("填写有误：{message}"))
}

/// The page's fields with their values and messages, for the template.
fn field_context(
    f: &Field,
    key: &str,
    values: &HashMap<String, String>,
    errors: &HashMap<String, String>,
) -> Ctx {
    let value = values.get(key).cloned().unwrap_or_default();
    let (input, options) = match f.input {
        Input::Text => ("text", Vec::new()),
        Input::Number => ("number", Vec::new()),
        Input::DateTime => ("datetime", Vec::new()),
        Input::Select(options) => (
            "select",
            options
                .iter()
                .map(|(v, label)| context! {value => v, label => label, selected => *v == value})
                .collect(),
        ),
    };
    context! {
        name => key,
        label => f.label,
        input => input,
        options => options,
        value => value,
        error => errors.get(key),
        required => f.required,
        hint => f.hint,
    }
}

struct Outcome<'a> {
    values: &'a HashMap<String, String>,
    errors: &'a HashMap<String, String>,
    general: &'a [String],
    success: Option<String>,
}

async fn render_form(
    state: &AppState,
    user: &PortalUser,
    kind: FormKind,
    status: StatusCode,
    outcome: Outcome<'_>,
) -> Response {
    let fields: Vec<Ctx> = kind
        .fields()
        .iter()
        .map(|f| field_context(f, f.name, outcome.values, outcome.errors))
        .collect();
    let rows: Vec<Ctx> = if kind == FormKind::Stock {
        (0..STOCK_ROWS)
            .map(|row| {
                let cells: Vec<Ctx> = STOCK_ITEM_FIELDS
                    .iter()
                    .map(|f| {
                        field_context(f, &item_key(row, f.name), outcome.values, outcome.errors)
                    })
                    .collect();
                context! {number => row + 1, cells => cells}
            })
            .collect()
    } else {
        Vec::new()
    };
    let columns: Vec<&str> = STOCK_ITEM_FIELDS.iter().map(|f| f.label).collect();
    let frame = frame(state, user, kind.slug()).await;
    render_status(
        status,
        "form.html",
        context! {
            frame => frame,
            slug => kind.slug(),
            title => kind.title(),
            fields => fields,
            rows => rows,
            columns => columns,
            general => outcome.general,
            success => outcome.success,
        },
    )
}

/// `GET /portal/forms/{kind}`.
pub async fn page(
    State(state): State<AppState>,
    user: PortalUser,
    Path(slug): Path<String>,
) -> Response {
    let Some(kind) = FormKind::parse(&slug) else {
        return pages::not_found();
    };
    if user.hospital().is_none() {
        return pages::forbidden();
    }
    let none = HashMap::new();
    let outcome = Outcome {
        values: &none,
        errors: &none,
        general: &[],
        success: None,
    };
    render_form(&state, &user, kind, StatusCode::OK, outcome).await
}

/// `POST /portal/forms/{kind}`.
pub async fn submit(
    State(state): State<AppState>,
    user: PortalUser,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let values: HashMap<String, String> = pairs
        .into_iter()
        .map(|(k, v)| (k, v.trim().to_string()))
        .collect();
    if let Err(refused) = csrf::check(&user, values.get(csrf::FIELD).map(String::as_str)) {
        return refused.into_response();
    }
    let Some(kind) = FormKind::parse(&slug) else {
        return pages::not_found();
    };
    // The facility is the session's hospital; a `facility` field in the
    // form, if someone adds one, is never read.
    let Some(hospital) = user.hospital().map(str::to_string) else {
        return pages::forbidden();
    };
    let (record, rows) = record(kind, &values);
    let document = submit::envelope(&user, &hospital, vec![record]);
    let raw = serde_json::to_vec(&document).unwrap_or_default();
    let answer = submit::document(&state, &hospital, Syntax::Json, raw).await;
    let mut errors = HashMap::new();
    let mut general = Vec::new();
    let (status, success) = match answer {
        Answer::Accepted { receipt, .. } => {
            let notice = format!("{} 已提交成功，回执号 (receipt) {receipt}。", kind.title());
            let none = HashMap::new();
            let outcome = Outcome {
                values: &none,
                errors: &none,
                general: &[],
                success: Some(notice),
            };
            return render_form(&state, &user, kind, StatusCode::OK, outcome).await;
        }
        Answer::Refused {
            receipt,
            errors: problems,
            ..
        } => {
            for p in problems {
                let message = chinese(&p.message);
                match form_field(&p.path, &rows) {
                    Some(key) if !errors.contains_key(&key) => {
                        errors.insert(key, message);
                    }
                    _ => general.push(format!("{}：{message}", p.path)),
                }
            }
            general.insert(0, format!("提交未被接受，请修改标红的项目后重新提交（已留存记录 {receipt}，未产生任何数据变更）。"));
            (StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        Answer::Forbidden { .. } => return pages::forbidden(),
        Answer::Unavailable => {
            general.push("系统暂时无法保存，请稍后重新提交。".to_string());
            (StatusCode::SERVICE_UNAVAILABLE, None)
        }
    };
    let outcome = Outcome {
        values: &values,
        errors: &errors,
        general: &general,
        success,
    };
    render_form(&state, &user, kind, status, outcome).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_paths_land_on_form_fields() {
        assert_eq!(form_field("records[0].abo", &[]).as_deref(), Some("abo"));
        assert_eq!(
            form_field("records[0].items[1].quantity", &[0, 3]).as_deref(),
            Some("items.3.quantity")
        );
        assert_eq!(form_field("documentId", &[]), None);
        assert_eq!(form_field("records[0].items[5].quantity", &[0]), None);
    }

    #[test]
    fn empty_stock_lines_are_left_out_and_rows_remembered() {
        let values: HashMap<String, String> = [
            ("at", "2026-11-25T08:00"),
            ("items.0.measure", "U"),
            ("items.2.product", "RBC-LR"),
            ("items.2.quantity", "12"),
            ("items.2.measure", "U"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (record, rows) = record(FormKind::Stock, &values);
        assert_eq!(rows, vec![2]);
        assert_eq!(record["items"][0]["product"], "RBC-LR");
        assert_eq!(record["type"], "Stock");
    }

    #[test]
    fn messages_are_chinese() {
        assert_eq!(
            chinese("\"C\" is not a blood group (A, B, O, AB)"),
            "ABO 血型应为 A、B、O 或 AB"
        );
        assert!(chinese("something new").starts_with("填写有误"));
    }
}

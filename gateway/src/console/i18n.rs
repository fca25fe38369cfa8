//! The console's two languages: Simplified Chinese by default, English on request (the
//! `linli_lang` cookie, or `?lang=en` for one page). Words live beside their use as
//! `lang.pick("中文", "English")`; this module holds the shared vocabularies and the
//! translation of the services' refusals.

use chrono::Weekday;
use tonic::Code;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "zh" | "zh-CN" | "zh-cn" => Some(Lang::Zh),
            "en" | "en-GB" | "en-US" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        self.pick("zh", "en")
    }

    pub fn html(self) -> &'static str {
        self.pick("zh-CN", "en")
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

pub fn weekday(lang: Lang, day: Weekday) -> &'static str {
    let (zh, en) = match day {
        Weekday::Mon => ("周一", "Mon"),
        Weekday::Tue => ("周二", "Tue"),
        Weekday::Wed => ("周三", "Wed"),
        Weekday::Thu => ("周四", "Thu"),
        Weekday::Fri => ("周五", "Fri"),
        Weekday::Sat => ("周六", "Sat"),
        Weekday::Sun => ("周日", "Sun"),
    };
    lang.pick(zh, en)
}

pub fn kpi(lang: Lang, name: &str) -> String {
    let (zh, en) = match name {
        "satisfaction" => ("满意度", "Satisfaction"),
        "awareness" => ("知晓率", "Awareness"),
        "participation" => ("参与率", "Participation"),
        "volunteer_ratio" => ("志愿者比例", "Volunteer ratio"),
        "training_coverage" => ("培训覆盖率", "Training coverage"),
        "self_sufficiency" => ("自我造血率", "Self-sufficiency"),
        "facility_utilisation" => ("设施利用率", "Facility utilisation"),
        other => (other, other),
    };
    lang.pick(zh, en).to_owned()
}

/// Codes the services use (categories, statuses, roles, purposes, funding sources), as
/// staff call them.
pub fn term(lang: Lang, code: &str) -> String {
    let (zh, en) = match code {
        "elderly" => ("老年人", "elderly"),
        "minor" => ("未成年人", "minor"),
        "disability" => ("残疾人", "disability"),
        "low_income" => ("低收入", "low income"),
        "living_alone" => ("独居", "living alone"),
        "active" => ("在册", "active"),
        "moved_out" => ("已迁出", "moved out"),
        "deceased" => ("已故", "deceased"),
        "confirmed" => ("已确认", "confirmed"),
        "waitlisted" => ("候补", "waitlisted"),
        "cancelled" => ("已取消", "cancelled"),
        "attended" => ("已签到", "attended"),
        "no_show" => ("未到", "no-show"),
        "district_admin" => ("区级管理员", "district admin"),
        "centre_manager" => ("中心主任", "centre manager"),
        "front_desk" => ("前台", "front desk"),
        "coordinator" => ("项目协调员", "coordinator"),
        "finance_officer" => ("财务人员", "finance officer"),
        "auditor" => ("监督审计", "auditor"),
        "service_delivery" => ("提供服务", "service delivery"),
        "activity_contact" => ("活动通知", "activity contact"),
        "partner_sharing" => ("与合作方共享", "partner sharing"),
        "paper_form" => ("纸质表格", "paper form"),
        "in_person" => ("当面", "in person"),
        "phone" => ("电话", "phone"),
        "online" => ("网上", "online"),
        "box" => ("意见箱", "suggestion box"),
        "appropriation" => ("政府拨款", "government appropriation"),
        "special_fund" | "special_funds" => ("社区建设专项资金", "special funds"),
        "donation" | "donations" => ("社会捐赠", "donations"),
        "service_fee" | "service_fees" => ("服务收费", "service fees"),
        "partnership" | "partnerships" => ("项目合作", "partnerships"),
        "personnel" => ("人员经费", "personnel"),
        "service_costs" => ("服务费用", "service costs"),
        "equipment" => ("设备购置与维护", "equipment"),
        "office" => ("办公费用", "office costs"),
        "received" => ("已收到", "received"),
        "in_progress" => ("处理中", "in progress"),
        "answered" => ("已答复", "answered"),
        "closed" => ("已关闭", "closed"),
        "open" => ("待办", "open"),
        "done" => ("已完成", "done"),
        "unreachable" => ("未联系上", "unreachable"),
        "pending" => ("待核实", "pending"),
        "verified" => ("已核实", "verified"),
        "rejected" => ("已驳回", "rejected"),
        "male" => ("男", "male"),
        "female" => ("女", "female"),
        "paused" => ("暂停", "paused"),
        "left" => ("已退出", "left"),
        "signed_up" => ("已报名", "signed up"),
        "withdrawn" => ("已退出报名", "withdrawn"),
        "checked_in" => ("已到岗", "checked in"),
        "completed" => ("已完成", "completed"),
        "check_out" => ("签退记录", "check-out"),
        "self_logged" => ("自行登记", "self-logged"),
        "held" => ("已预留", "held"),
        "waiting" => ("候补中", "waiting"),
        "released" => ("已释放", "released"),
        "leader" => ("负责人", "leader"),
        "member" => ("成员", "member"),
        "art_team" => ("文艺队", "art team"),
        "volunteer_group" => ("志愿服务队", "volunteer group"),
        "interest_group" => ("兴趣小组", "interest group"),
        "cash" => ("现金", "cash"),
        "bank" => ("银行转账", "bank transfer"),
        other => (other, other),
    };
    lang.pick(zh, en).to_owned()
}

/// A field violation's reason in the user's language: the services speak English, so the
/// common reasons are translated and any other is shown as it came.
pub fn reason(lang: Lang, reason: &str) -> String {
    if lang == Lang::En {
        return reason.to_owned();
    }
    let known: &[(&str, &str)] = &[
        ("is required", "必填"),
        ("must not be empty", "不能为空"),
        ("must be a UUID", "格式不正确"),
        ("is taken", "已被占用"),
        ("must be at least 10 characters", "至少 10 个字符"),
        (
            "a centre role needs at least one centre",
            "中心岗位至少选择一个中心",
        ),
        ("name at least one role", "请至少选择一个角色"),
    ];
    if let Some((_, zh)) = known.iter().find(|(en, _)| *en == reason) {
        return (*zh).to_owned();
    }
    let patterns: &[(&str, &str)] = &[
        ("must be a date", "请填写日期，格式为 年-月-日"),
        ("YYYY-MM-DD", "请填写日期，格式为 年-月-日"),
        ("in the future", "不能晚于今天"),
        ("11 digits", "手机号须为 11 位数字"),
        ("mobile", "手机号格式不正确"),
        ("check digit", "身份证号校验位不正确"),
        ("national ID", "身份证号不正确"),
        ("does not agree", "与出生日期或性别不符"),
        ("gender", "请选择性别"),
        ("guardian", "未满 14 岁须由监护人同意"),
        ("characters", "长度不符合要求"),
        ("unknown", "无法识别的值"),
    ];
    match patterns.iter().find(|(en, _)| reason.contains(en)) {
        Some((_, zh)) => format!("{zh}（{reason}）"),
        None => reason.to_owned(),
    }
}

/// A service's refusal that names no field, in the user's language, keeping the service's
/// own explanation (which says why: the age limit, the category, the seat count).
pub fn refusal(lang: Lang, status: &tonic::Status) -> String {
    let message = status.message();
    if lang == Lang::En {
        return message.to_owned();
    }
    let lead = match status.code() {
        Code::FailedPrecondition if message.starts_with("not eligible") => "不符合参加条件",
        Code::FailedPrecondition => "无法办理",
        Code::AlreadyExists => "已存在",
        Code::NotFound => "找不到",
        Code::PermissionDenied => "无权办理",
        Code::Unavailable => "服务暂时不可用，请稍后再试",
        _ => "未被接受",
    };
    format!("{lead}：{message}")
}

//! The shared vocabularies: the services' codes (categories, statuses, skills,
//! certifications), days, hours and money as people read them, in either language.

use chrono::{Datelike, NaiveDate, Weekday};

use crate::Lang;

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

/// A day in words, without the weekday: 2026年12月6日 or 6 December 2026. For a day that is
/// read as a date rather than planned around (a ledger entry, a birthday, an expiry, a
/// receipt); [`super::date`] adds the weekday for the days of a working week. Form values
/// and addresses stay ISO.
pub fn day(lang: Lang, day: NaiveDate) -> String {
    match lang {
        Lang::Zh => format!("{}年{}月{}日", day.year(), day.month(), day.day()),
        Lang::En => day.format("%-d %B %Y").to_string(),
    }
}

/// A day the services send as ISO text (2026-12-06), in words as [`day`] says it; "—" for
/// none, and text that is not a day as it came.
pub fn iso_day(lang: Lang, text: &str) -> String {
    match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        Ok(d) => day(lang, d),
        Err(_) if text.trim().is_empty() => "—".into(),
        Err(_) => text.to_owned(),
    }
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
        "family_delegate" => ("委托家人代办", "a family member acts for them"),
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
        "equipment_purchase" => ("设备购置", "equipment purchase"),
        "equipment_maintenance" => ("设备维护", "equipment maintenance"),
        "office" | "office_costs" => ("办公费用", "office costs"),
        "manual" => ("手工记账", "manual"),
        "expense" => ("支出", "expense"),
        "grant" => ("拨款", "grant"),
        "fee" => ("服务收费", "fee"),
        "refund" => ("退款", "refund"),
        "reversal" => ("冲销", "reversal"),
        "payment" => ("收款", "payment"),
        "payment_refund" => ("收款退回", "payment refund"),
        "bank_transfer" => ("银行转账", "bank transfer"),
        "wechat_pay" => ("微信支付", "WeChat Pay"),
        "alipay" => ("支付宝", "Alipay"),
        "staff" => ("工作人员", "staff"),
        "volunteer" => ("志愿者", "volunteer"),
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
        other => return skill(lang, other),
    };
    lang.pick(zh, en).to_owned()
}

/// A volunteer's skill or an opportunity's required skill, as staff call it.
pub fn skill(lang: Lang, code: &str) -> String {
    let (zh, en) = match code {
        "elderly_care" => ("照护老人", "elderly care"),
        "cooking" => ("烹饪", "cooking"),
        "tutoring" => ("课业辅导", "tutoring"),
        "reading" => ("读书陪伴", "reading"),
        "first_aid" => ("急救", "first aid"),
        "dance" => ("舞蹈", "dance"),
        "music" => ("音乐", "music"),
        "computer" => ("电脑教学", "computer skills"),
        "sign_language" => ("手语", "sign language"),
        "calligraphy" => ("书法", "calligraphy"),
        "haircut" | "hairdressing" => ("理发", "hairdressing"),
        "repair" | "repairs" => ("维修", "repairs"),
        "driving" => ("驾驶", "driving"),
        "nursing" => ("护理", "nursing"),
        "counselling" | "counseling" => ("心理疏导", "counselling"),
        "photography" => ("摄影", "photography"),
        "law" | "legal_advice" => ("法律咨询", "legal advice"),
        other => (other, other),
    };
    lang.pick(zh, en).to_owned()
}

/// A kind of certification, as staff call it.
pub fn certification(lang: Lang, kind: &str) -> String {
    let (zh, en) = match kind {
        "first_aid" => ("急救证", "first aid"),
        "medical_licence" => ("医师执业证书", "medical licence"),
        "nursing_licence" => ("护士执业证书", "nursing licence"),
        "teacher_certificate" => ("教师资格证", "teacher's certificate"),
        "social_worker" => ("社会工作者证书", "social worker"),
        "background_check" => ("无犯罪记录证明", "background check"),
        _ => ("资格证书", "certificate"),
    };
    lang.pick(zh, en).to_owned()
}

/// Minutes as hours, the way staff count volunteer time: 2.5 小时.
pub fn hours(lang: Lang, minutes: i64) -> String {
    let hours = minutes as f64 / 60.0;
    let figure = if minutes % 60 == 0 {
        format!("{}", minutes / 60)
    } else {
        format!("{hours:.1}")
    };
    format!("{figure}{}", lang.pick(" 小时", " h"))
}

/// A KPI's numerator or denominator in its unit, as a person reads it: money in yuan,
/// time in hours, people and answers counted.
pub fn kpi_amount(lang: Lang, unit: &str, value: i64) -> String {
    match unit {
        "fen" => money(value),
        "seconds" => {
            let hours = value as f64 / 3600.0;
            if value % 3600 == 0 {
                format!("{}{}", value / 3600, lang.pick(" 小时", " h"))
            } else {
                format!("{hours:.1}{}", lang.pick(" 小时", " h"))
            }
        }
        "answers" => format!("{value}{}", lang.pick(" 份", " answers")),
        "respondents" | "residents" | "staff" => format!("{value}{}", lang.pick(" 人", "")),
        _ => value.to_string(),
    }
}

/// A reason the service gave only in English words (code `invalid`: not yet given a code
/// of its own), in the user's language: the common words are translated, any other is said
/// as a plain "check this". Everything with a code goes through the catalogue instead.
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
    let more: &[(&str, &str)] = &[
        ("positive amount", "请填写大于零的金额"),
        ("must not be negative", "金额不能为负数"),
        ("must be a month", "请填写月份，格式为 年-月"),
        ("has not ended yet", "该月尚未结束，不能结账"),
        ("closed", "该月已结账，不能再记账"),
        ("anonymous donation names no donor", "匿名捐赠不填写捐赠人"),
        (
            "unless the donation is anonymous",
            "请填写捐赠人姓名，或选择匿名捐赠",
        ),
        ("at most", "内容过长"),
        ("must be cash or bank", "请选择现金或银行转账"),
        ("must be personnel", "请选择预算类别"),
        ("ISO 4217", "币种不正确"),
        ("balance", "借贷不平衡"),
        ("out of range", "超出允许范围"),
    ];
    match patterns
        .iter()
        .chain(more.iter())
        .find(|(en, _)| reason.contains(en))
    {
        Some((_, zh)) => (*zh).to_owned(),
        None => "填写有误，请检查".to_owned(),
    }
}

/// Money in fen as the centre shows it: ¥12.50.
pub fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let yuan = abs / 100;
    let mut grouped = String::new();
    let digits = yuan.to_string();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}¥{grouped}.{:02}", abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_iso_day_is_said_in_words() {
        assert_eq!(iso_day(Lang::Zh, "2026-12-06"), "2026年12月6日");
        assert_eq!(iso_day(Lang::Zh, "1950-03-08"), "1950年3月8日");
        assert_eq!(iso_day(Lang::En, "2026-12-06"), "6 December 2026");
        assert_eq!(iso_day(Lang::Zh, ""), "—");
        assert_eq!(iso_day(Lang::Zh, "长期"), "长期");
    }
}

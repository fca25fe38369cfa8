//! The message catalogue: every refusal's stable code (with its parameters) said in
//! Simplified Chinese and in English. The services give codes and parameters (see
//! `linli_platform::error::Reason`); this is the one place that turns them into words a
//! person reads, for the HTTP API's problem documents (`detail`, and `message` per field,
//! in the language `Accept-Language` asks for, zh-CN by default), the console and the
//! residents' site. A code missing here falls back to words that say what kind of
//! problem it is, never to a raw code.

use std::collections::BTreeMap;

use linli_platform::error::FieldViolation;

use crate::console::i18n::{certification, reason as translate_reason, skill, term};

/// The two languages people read: Simplified Chinese by default, English on request.
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

    /// The language an `Accept-Language` header asks for: the first (by weight) that is
    /// Chinese or English; Chinese when it names neither.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut ranges: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, item)| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim().to_ascii_lowercase();
                let weight = parts
                    .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                let primary = tag.split('-').next().unwrap_or_default();
                let lang = match primary {
                    "zh" => Lang::Zh,
                    "en" => Lang::En,
                    _ => return None,
                };
                (weight > 0.0).then_some((weight, i, lang))
            })
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranges.first().map(|r| r.2).unwrap_or_default()
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

    /// As HTML's `lang` and HTTP's `Content-Language` name it.
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

/// The words for `code` with `params`, or `None` when the catalogue does not know the code.
pub fn message(lang: Lang, code: &str, params: &BTreeMap<String, String>) -> Option<String> {
    let p = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let status = |name: &str| term(lang, p(name));
    if let Some(said) = plain(lang, code, p) {
        return Some(said);
    }
    let (zh, en): (String, String) = match code {
        "below" => (
            format!("不能小于{}", field_name(lang, p("other"))),
            format!("must not be below {}", p("other")),
        ),
        "before" => (
            format!("不能早于{}", field_name(lang, p("other"))),
            format!("must not be before {}", p("other")),
        ),
        "status.unchanged" => (
            format!("状态已经是{}", status("status")),
            format!("is already {}", p("status")),
        ),
        "not_after" => (
            format!("须晚于{}", field_name(lang, p("other"))),
            format!("must be after {}", p("other")),
        ),
        "not_found" => (
            format!("找不到该{}", thing(Lang::Zh, p("what"))),
            format!("{} not found", thing(Lang::En, p("what"))),
        ),
        "ineligible.category" => (
            format!(
                "不符合参加条件：本项目只面向{}居民",
                p("categories")
                    .split(',')
                    .map(|c| term(Lang::Zh, c))
                    .collect::<Vec<_>>()
                    .join("或")
            ),
            format!(
                "not eligible: the offering is for residents who are {}",
                p("categories").replace(',', " or ")
            ),
        ),
        "payment.exceeds_outstanding" => {
            let owed = crate::console::money(p("outstanding_minor").parse().unwrap_or(0));
            (
                format!("收款金额超过尚欠金额：这笔费用还欠 {owed}"),
                format!("is more than the {owed} outstanding on the fee"),
            )
        }
        "payment.refund_exceeds_payment" => {
            let left = crate::console::money(p("left_minor").parse().unwrap_or(0));
            (
                format!("退款金额超过这笔收款可退的 {left}"),
                format!("is more than the {left} left of the payment"),
            )
        }
        "ineligible.status" => (
            format!("不符合参加条件：该居民状态为{}", status("status")),
            format!("not eligible: the resident is {}", status("status")),
        ),
        "volunteer.resident_inactive" => (
            format!("该居民已不在册（{}）", status("status")),
            format!(
                "not qualified: the resident is no longer active ({})",
                status("status")
            ),
        ),
        "volunteer.not_active" => (
            format!("该志愿者目前{}，不能报名", status("status")),
            format!("not qualified: the volunteer is {}", status("status")),
        ),
        "volunteer.not_qualified" => {
            let mut zh = "该志愿者不符合岗位要求".to_owned();
            let mut missing: Vec<String> = p("certifications")
                .split(',')
                .filter(|k| !k.is_empty())
                .map(|k| certification(Lang::Zh, k))
                .collect();
            if p("background_check") == "missing" {
                missing.push("无犯罪记录证明".into());
            }
            if !missing.is_empty() {
                zh.push_str(&format!("：缺少或已过期的{}", missing.join("、")));
            }
            (zh, "not qualified for the shift".into())
        }
        "staff.not_licensed" => {
            let licence = match p("licence") {
                "medical_licence" => "医师/护士执业证书".to_owned(),
                other => certification(Lang::Zh, other),
            };
            let zh = match p("expired_on") {
                "" => format!("该员工没有{licence}，不能安排提供此项服务"),
                expired => format!(
                    "该员工的{licence}已于 {expired} 过期，早于场次日期 {}，不能安排",
                    p("session_on")
                ),
            };
            let en = match p("expired_on") {
                "" => format!("not licensed: holds no {}", p("licence")),
                expired => format!(
                    "not licensed: the {} expired on {expired}, before the session on {}",
                    p("licence"),
                    p("session_on")
                ),
            };
            (zh, en)
        }
        "staff.not_employed" => (
            format!("该员工在 {} 不在职，不能安排", p("session_on")),
            format!("the staff member is not employed on {}", p("session_on")),
        ),
        "match.lacks_skills" => (
            format!(
                "缺少技能：{}",
                p("skills")
                    .split(',')
                    .map(|s| skill(Lang::Zh, s))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            format!("lacks {}", p("skills").replace(',', ", ")),
        ),
        "match.certification_missing" => (
            format!("需要{}，但没有", certification(Lang::Zh, p("kind"))),
            format!("needs a {} certification and holds none", p("kind")),
        ),
        "match.certification_expired" => (
            format!(
                "{}已于 {} 过期，早于班次日期 {}",
                certification(Lang::Zh, p("kind")),
                p("expired_on"),
                p("shift_on")
            ),
            format!(
                "{} certification expired on {}, before the shift on {}",
                p("kind"),
                p("expired_on"),
                p("shift_on")
            ),
        ),
        "assignment.not_withdrawable" => (
            format!("该报名{}，不能再退出", status("status")),
            format!(
                "the assignment is {}; it can no longer be withdrawn",
                status("status")
            ),
        ),
        "assignment.status" => (
            format!("该报名{}", status("status")),
            format!("the assignment is {}", status("status")),
        ),
        "hours.already_decided" => (
            format!("这条时长记录{}", status("status")),
            format!("the entry is already {}", status("status")),
        ),
        "period.closed" => (
            format!("{} 已结账，不能再记账", month_words(lang, p("period"))),
            format!("the period {} is closed", p("period")),
        ),
        "period.out_of_order" => (
            format!(
                "须先结 {} 的账：按月份顺序结账",
                month_words(lang, p("first_open"))
            ),
            format!(
                "{} must be closed before {}: months close in order",
                p("first_open"),
                p("period")
            ),
        ),
        "suggestion.out_of_order" => (
            format!("该建议下一步只能是「{}」", status("next")),
            format!("a suggestion goes from {} to {}", p("from"), p("next")),
        ),
        "import.mapping.required" => (
            format!("表格中缺少「{}」这一列", field_name(lang, p("field"))),
            format!("no column for `{}`", p("field")),
        ),
        "follow_up.already_decided" => (
            format!("这次回访已{}", status("status")),
            format!("the follow-up is already {}", p("status")),
        ),
        _ => return None,
    };
    Some(match lang {
        Lang::Zh => zh,
        Lang::En => en,
    })
}

/// The codes whose words need nothing but their parameters: `code | 中文 | English`, a
/// parameter as `{name}`.
const PLAIN: &str = r#"
required | 必填 | is required
uuid | 选择有误，请重新选择 | must be a UUID
date | 请填写日期，格式为 年-月-日 | must be a date as YYYY-MM-DD
month | 请填写月份，格式为 年-月 | must be a month, YYYY-MM
time_of_day | 请填写时间，格式为 时:分 | must be a time as HH:MM
instant | 时间不正确 | is not a valid time
length | 请填写 {min} 到 {max} 个字 | must be {min} to {max} characters
too_long | 最多 {max} 个字 | must be at most {max} characters
out_of_range | 须在 {min} 到 {max} 之间 | must be between {min} and {max}
one_of | 请从可选项中选择 | must be one of {allowed}
too_short | 至少 {min} 个字 | must be at least {min} characters
too_small | 不能小于 {min} | must be at least {min}
too_large | 不能大于 {max} | must be at most {max}
too_many | 最多 {max} 项 | must name at most {max}
count | 须有 {min} 到 {max} 项 | must hold {min} to {max}
before_birth | 不能早于出生日期 | must not be before the resident was born
age_band_limit | 年龄限制须与登记的年龄段一致（如 14、18、60、80 岁） | must lie on the registry's age bands
invalid_value | 超出允许范围 | out of range
roles.required | 请至少选择一个角色 | name at least one role
roles.centre_required | 中心岗位至少选择一个中心 | a centre role needs at least one centre
scopes.required | 请至少选择一项授权范围 | name at least one scope
username.taken | 用户名已被占用 | is taken
certificate.expired | 证书已过期 | has expired already
webhook.url | 请填写以 http:// 或 https:// 开头的接收地址 | must be an http:// or https:// address
webhook.event_types_required | 请至少选择一种事件 | name at least one event type
webhook.event_type_not_covered | 该协议的授权范围不包含这种事件 | is not an event type the agreement's scopes cover
webhook.replay_what | 请选择要重发的推送，或填写从何时起重发 | name a delivery, or a time to replay every delivery since
agreement.revoked | 该协议已终止 | the agreement is revoked
partner.not_own_offering | 该项目不是本单位提供的 | the offering is not one this partner provides
range.both | 请同时填写开始和结束时间，或都不填 | give both starts_at and ends_at, or neither
range.within_year | 结束日期须晚于开始日期，且相隔不超过一年 | must be after from, within a year
series.end | 请填写结束日期或次数，二选一 | give an end date or a count, not both
series.too_long | 结束日期须在开始后三年以内 | must be within three years of starts_on
shift.too_long | 一个班次最长 24 小时 | a shift lasts at most 24 hours
household.has_head | 这一户已有户主 | the household has a head already
household.member_elsewhere | 该居民已属于另一户 | already belongs to a household
suggestion.reply_required | 答复时请填写答复内容 | an answer needs a reply
donation.anonymous_with_donor | 匿名捐赠不填写捐赠人 | an anonymous donation names no donor
donation.donor_required | 请填写捐赠人姓名，或选择匿名捐赠 | is required unless the donation is anonymous
survey.no_answer | 请至少回答一题 | give at least one answer
survey.duplicate_answer | 每题只能回答一次 | answer each question at most once
review.no_score | 请至少为一项打分 | at least one criterion is scored
review.duplicate_score | 每项只能打一次分 | each criterion is scored once
range.within_day | 结束时间须晚于开始时间，且在 24 小时以内 | must be after starts_at, within 24 hours
weekdays | 请选择星期一到星期日 | must be weekdays 1 (Monday) to 7 (Sunday)
series.empty | 按这个规则，开始和结束日期之间没有场次 | the rule gives no session between starts_on and until
offering.provider_id_not_allowed | 由本中心提供时不填写合作方 | must be empty when the centre provides the offering
offering.concessions | 每项优惠须有类别和不为负数的价格 | each needs a category and a price that is not negative
session.not_in_series | 该场次不属于系列活动，只能单独修改 | this and following needs a session that belongs to a series
survey.unknown_question | 问卷中没有这道题 | is not a question of this survey
survey.not_an_option | 请从题目的选项中选择 | must be among the question's options
survey.already_answered | 这份问卷已经回答过了，每份只能回答一次 | this invitation was already answered; one response per invitation
entry.line_side | 每行只能填借方或贷方其中一个，且须大于零 | exactly one of debit_minor and credit_minor must be positive
entry.unbalanced | 借贷不平衡 | debits must equal credits
account.unknown | 本中心的科目表中没有这个科目 | is not an account of the centre's chart
account.own | 不能停用自己的账号，请由另一位主任办理 | is your own account; another manager disables it
centre.code_fixed | 服务中心编号登记后不能修改 | never changes once a centre exists
mask.unknown_field | 要修改的项目不正确 | is not a field that can be changed
code.format | 只能用小写字母、数字和连字符 | must be lower-case letters, digits or dashes
username.format | 用户名须为 2 到 32 个小写字母、数字或 . _ - | must be 2 to 32 lower-case letters, digits, '.', '_' or '-'
time_zone | 时区不正确 | must be an IANA time zone such as Asia/Shanghai
phone.format | 电话号码格式不正确 | must be digits, spaces, dashes, brackets or +
correction.whole_replacement | 您无法看到这一项的完整内容，整体替换时不能省略它 | is not shown to your role in full, so a whole replacement must not leave it out
resident.changed | 居民资料刚被修改过，请重新打开后再改 | changed meanwhile; read the resident again
household.no_address | 居民没有住址（楼栋或房号），不能建户 | has no address (a building or a room) for the household
period.format | 请填写月份（2027-03）、季度（2027-Q1）或年份（2027） | must be a month (2027-03), a quarter (2027-Q1) or a year (2027)
range.within_36_months | 结束月份不能早于开始月份，且相隔不超过 36 个月 | must not be before from_month, within 36 months
question.key | 题目编号须为不重复的小写英文，如 satisfaction | must be a unique lower-case key such as satisfaction
question.options | 选择题须有选项 | a choice question needs options
status.final | 已故居民的状态不能再改 | a deceased resident's status is final
currency | 币种不正确 | must be a three-letter ISO 4217 code such as CNY
currency.centre | 币种须与本中心的记账币种一致 | must be {currency}, the centre's currency
entry.two_lines | 一笔分录至少要有两行 | an entry needs at least two lines
negative | 不能为负数 | must not be negative
not_positive | 请填写大于零的金额 | must be a positive amount
in_future | 不能晚于今天 | must not be in the future
in_past | 不能早于现在 | must not be in the past
text.control_characters | 含有无法识别的控制字符，请重新输入 | must not contain control characters other than tab and line breaks
page_size.too_large | 每页最多 {max} 条 | must be at most {max}
page_token.invalid | 翻页参数已失效，请从第一页重新查看 | is not a page token of this list
idempotency_key.invalid | 请求编号格式不正确 | must be 1 to 200 printable ASCII characters
invalid_request | 填写的内容有误，请按提示修改 | the request has invalid fields
not_correctable | 这一项不能通过更正修改 | cannot be changed by a correction
route_not_found | 没有这个地址 | no such route
conflict | 与已有记录冲突 | conflicts with an existing record
directory.unknown_centre | 找不到该服务中心（或其登记尚未同步） | is not a centre of the district (or its registration has not reached this service yet)
directory.not_a_resident | 不是本中心的居民 | is not a resident of this centre
directory.not_staff | 不是本中心的工作人员 | is not a staff member of this centre
directory.not_a_partner | 不是本中心的合作方 | is not a partner of this centre
board.membership_ended | 该理事会成员已于 {ended_on} 卸任，不能再更改 | the membership ended on {ended_on}
board.outside_term | 须在任期内（{term_from} 至 {term_until}） | must be within the term, {term_from} to {term_until}
board.decision_done | 该决议已于 {done_on} 办结 | the decision was done on {done_on}
board.not_a_member | 不是本中心理事会的成员 | is not a member of this centre's board
board.resident_sector | 居民代表的界别须为"居民" | a resident sits for the residents: sector must be resident
review.exists | 本中心 {period} 的运营管理评估已经开始，请在原评估中继续 | the centre's review for {period} has begun already
checklist.key_repeated | 与前面的评估项目编号重复 | is the key of an earlier item
national_id.length | 身份证号应为 18 位：17 位数字加 1 位校验码（数字或 X） | must be 18 characters: 17 digits and a check digit or X
national_id.old_form | 这是旧的 15 位号码，请填写现行身份证上的 18 位号码 | is an old 15-digit number; enter the 18-digit number on the current card
national_id.region | 身份证号开头的地区码不正确 | does not begin with a valid region code
national_id.birth_date | 身份证号中的出生日期不正确 | contains a birth date that is impossible
national_id.check_character | 身份证号校验位不正确，请再核对一遍号码 | has a wrong check character; please re-check the number
national_id.masked | 这是遮挡后的号码，请填写完整号码 | is the masked value as read back, not the whole one
phone.masked | 这是遮挡后的号码，请填写完整号码 | is the masked value as read back, not the whole one
national_id.date_of_birth_mismatch | 与身份证号中的出生日期不符 | does not match date_of_birth
national_id.gender_mismatch | 与身份证号中的性别不符 | does not match gender
national_id.registered | 已有居民使用此身份证号登记 | a resident with this national ID is already registered
phone.mobile | 手机号须为 11 位数字，例如 13812345678 | must be an 11-digit mainland mobile number, e.g. 13812345678
gender | 请选择性别 | must be `male` or `female`
date_of_birth.too_old | 出生日期须在近 130 年内 | must be within the last 130 years
consent.guardian_required | 未满 {age} 岁的居民须由监护人同意 | a resident under {age} needs a guardian's consent
consent.guardian_minor | 监护人须已成年 | the guardian must be an adult
family.no_match | 没有找到这位家人：请核对手机号和姓名是否与在服务中心登记的一致 | no resident of this centre has this mobile number and name
family.minor | 年满 {age} 周岁才能委托家人代办 | a resident under {age} cannot let someone act for them
family.own_only | 只有本人才能委托或取消家人代办 | only the resident themselves lets a family member act for them
resident_probably_registered | 本中心已有姓名、出生日期和手机号都相同的居民，可能是同一人 | a resident of this centre has the same name, date of birth and phone
household_exists | 这个地址已有一户，请把居民加入该户 | a household is at this address already
centre.code_taken | 已有服务中心使用这个编号 | another centre has this code
sign_in.too_many_codes | 获取验证码的次数太多了，请一小时后再试，或到服务中心前台办理 | too many codes were asked for; try again in an hour, or at the centre's desk
sign_in.too_many_requests | 操作太频繁了，请过几分钟再试，或到服务中心前台办理 | too many sign-in requests from here; try again in a few minutes, or at the centre's desk
sign_in.code_wrong | 验证码不对，请再看一下短信 | the code is not right; check the message again
sign_in.code_expired | 验证码已过期或已经用过，请重新获取验证码 | the code has expired or was used; ask for a new one
sign_in.too_many_tries | 验证码输错次数太多，请重新获取验证码 | too many wrong tries; ask for a new code
sign_in.code_format | 验证码是 6 位数字，请再看一下短信 | the code is 6 digits
correction.closed | 这条更正申请已经处理过了，请刷新页面查看结果 | the correction request was closed already
ineligible.min_age | 不符合参加条件：本项目限 {min_age} 岁及以上居民参加 | not eligible: the offering is for ages {min_age} and over
ineligible.max_age | 不符合参加条件：本项目限 {max_age} 岁及以下居民参加 | not eligible: the offering is for ages up to {max_age}
ineligible.moved_out | 不符合参加条件：该居民已迁出本社区 | not eligible: the resident has moved out of the community
ineligible.deceased | 不符合参加条件：该居民已登记为已故 | not eligible: the resident is recorded as deceased
ineligible.age_unknown | 不符合参加条件：该居民的年龄段未知 | not eligible: the resident's age band is unknown
booking.resident_required | 请选择居民（只有中心自用场地时可以不选） | is required except when the centre books a facility itself
booking.already_booked | 该居民已预约（或已在候补名单上） | the resident already has a place (or a waitlist place) in this session
booking.attended | 该预约已签到，不能再取消 | the booking was attended and can no longer be cancelled
booking.no_show | 该预约已记为未到 | the booking was marked as a no-show
booking.cancelled | 该预约已取消 | the booking is cancelled
booking.waitlisted | 该预约仍在候补，尚未确认 | the booking is still on the waitlist
checkin.not_open | 签到尚未开始：活动开始前 {hours_before} 小时才能签到 | check-in opens {hours_before} hours before the session
checkin.no_open_session | 这个预约现在没有可以签到的场次，请选择场次 | no session of this booking is open for check-in now; name the session
checkin.session_no_show | 该场次已记为未到 | the session was already marked as a no-show
checkin.no_place | 该预约在这个场次没有名额 | the booking has no place in that session
checkin.undo_other_day | 只能在活动当天撤销签到，这次签到已不能撤销 | a check-in can be taken back only on the day of the session
checkin.undo_ended | 活动已经结束，不能再撤销签到 | the session has ended; its check-in can no longer be taken back
offering.inactive | 该项目已停止提供 | the offering is no longer offered
offering.no_upcoming_sessions | 该项目没有即将开始的场次 | the offering has no upcoming sessions
offering.facility_has_no_sessions | 场地按时间段预约，没有场次 | the offering is booked by time range
offering.booked_by_range | 场地按时间段预约，没有场次 | the offering is booked by time range
offering.booked_by_session | 该项目按场次预约 | the offering is booked by session
offering.full | 名额已满 | the offering is full
offering.nothing_to_change | 请填写新的收费或名额 | give a fee or a capacity
payment.reference_required | 银行转账、微信支付或支付宝须填写交易单号 | is required for a bank transfer, WeChat Pay or Alipay
session.cancelled | 该场次已取消 | the session is cancelled
session.over | 该场次已结束 | the session is over
facility.range_required | 请选择开始和结束时间 | a facility booking needs starts_at and ends_at
facility.closed_day | 场地 {date} 不开放 | the facility is closed on {date}
facility.outside_hours | 场地开放时间为 {opens}–{closes}，须在同一天内 | the facility is open {opens}–{closes} on one day
facility.held | 「{facility}」在 {held_from}–{held_until} 已被占用 | «{facility}» is already held {held_from}–{held_until}
facility.taken | 该时段刚被其他人预约，请换一个时段 | the facility was booked for an overlapping time by another request just now
facility.name_taken | 本中心已有同名场地 | the centre already has a facility with this name
volunteer.under_14 | 未满 14 岁的居民不能登记为志愿者 | a resident under 14 cannot volunteer
volunteer.guardian_consent | 14 至 17 岁的志愿者须有监护人同意 | a volunteer aged 14 to 17 needs a guardian's consent
volunteer.already_registered | 该居民已经是志愿者 | the resident is already a volunteer
volunteer.left | 该志愿者已退出，请重新登记 | the volunteer has left; register again instead
match.available_whole | 整个班次都有空 | available for the whole shift
match.available_part | 只有部分时间有空 | available for part of the shift
match.not_available | 这个时段没有登记空闲时间 | no availability window at this time
match.has_skills | 具备全部所需技能 | has every required skill
match.no_background_check | 岗位涉及未成年人，但没有无犯罪记录证明 | works with minors and has no background check on record
match.recent_hours | 近 {days} 天已核实服务 {hours} 小时 | {hours} verified hours in the last {days} days
match.already_signed_up | 已报名这个班次 | already signed up for this shift
match.overlapping | 已报名时间重叠的班次 | already on an overlapping shift
shift.over | 该班次已结束 | the shift is over
shift.full | 该班次已满 | the shift is full
shift.overlapping | 该志愿者已报名这个或时间重叠的班次 | the volunteer is already on this or an overlapping shift
assignment.not_checked_in | 请先签到再签退 | check in first
assignment.check_out_before_check_in | 签退时间须晚于签到时间 | the check-out must come after the check-in
assignment.other_volunteer | 该报名属于另一位志愿者 | the assignment is another volunteer's
hours.already_recorded | 这次服务的时长已经登记过 | hours for this assignment are already recorded
hours.self_verification | 服务时长须由登记人以外的人核实 | hours are verified by someone other than who logged them
staff.employment_ended | 聘用已结束 | the employment has already ended
staff.ends_before_start | 聘用开始于 {employed_from}，结束日期不能更早 | the employment began on {employed_from}; it cannot end before
training.wrong_audience | 这门培训不面向这类人员 | the course is for another audience
group.name_taken | 本中心已有同名团队 | the centre already has a group with this name
period.already_closed | 该月已经结账 | the period is already closed
period.not_ended | 该月尚未结束，不能结账 | has not ended yet
entry.already_reversed | 该分录已经冲销过 | the entry has already been reversed
entry.reversal_of_reversal | 冲销分录不能再冲销，请另记一笔 | a reversal cannot itself be reversed; post a new entry instead
ledger.refused | 账簿拒绝了这次修改 | the ledger refused the change
suggestion.closed | 该建议已关闭 | the suggestion is closed; nothing follows
suggestion.unknown_status | 状态不正确 | unknown status
forum.locked | 这个话题已关闭，不能再回复 | the thread is locked; no more replies
notice.session_without_offering | 选择场次前请先选择服务项目 | a session to book needs its offering
import.encoding | 无法识别文件编码，请选择 UTF-8 或 GBK | is not an encoding the import reads (UTF-8 or GBK)
import.unreadable | 无法读取文件，请确认是 CSV 表格 | cannot be read as a CSV sheet
import.no_heading | 表格没有标题行 | has no readable heading row
import.mapping.unknown_field | 对应关系中有无法导入的项目 | `{field}` is not an importable field
import.row.csv | 这一行不是有效的表格行 | is not a valid CSV row
import.row.relationship | 与户主关系填写有误 | is not a relationship the household register uses
import.row.household_address | 填写了与户主关系，但缺少住址（楼栋或房号） | needs the household's address (building or room)
import.row.second_head | 这个住址的户已有户主 | the household at this address has a head already
import.row.category | 人群类别「{word}」无法识别，可填：残疾、低保、独居 | `{word}` is not a category the registry records (disability, low-income, living alone)
import.mapping.no_column | 表格中没有「{column}」这一列 | no column is headed `{column}`
idempotency.applied | 这个请求已经办理过，请查看结果，不要重复提交 | the request with this Idempotency-Key was applied already
idempotency.answer_lost | 这个请求已经办理过，请查看结果，不要重复提交 | the request with this Idempotency-Key was applied already, but its answer was lost
idempotency.key_reused | 请求编号已用于另一项请求，请重新提交 | this Idempotency-Key was already used for a different request
request.too_large | 提交的内容太大或不完整 | the request is too large or was not received whole
unauthenticated | 请先登录 | sign in first
forbidden | 无权办理此事 | the caller may not do this
rate_limited | 请求过于频繁，请稍后再试 | too many requests; try again shortly
unavailable | 服务暂时不可用，请稍后再试 | the service is unavailable; try again shortly
timeout | 服务响应超时，请稍后再试 | the service took too long
internal | 系统出错，请稍后再试 | internal error
payload_too_large | 上传的内容太大 | the request body is too large
unsupported_media_type | 请求格式不正确 | the request body's type is not accepted
refused | 无法办理 | the request was refused
"#;

/// A code of [`PLAIN`] in `lang`, its parameters filled in by `p`.
fn plain<'a>(lang: Lang, code: &str, p: impl Fn(&str) -> &'a str) -> Option<String> {
    let line = PLAIN
        .lines()
        .find_map(|l| l.strip_prefix(code)?.strip_prefix(" | "))?;
    let (zh, en) = line.split_once(" | ")?;
    let mut pieces = lang.pick(zh, en).split('{');
    let mut said = pieces.next().unwrap_or_default().to_owned();
    for piece in pieces {
        let (name, rest) = piece.split_once('}').unwrap_or((piece, ""));
        said.push_str(p(name));
        said.push_str(rest);
    }
    Some(said)
}

/// A field violation in `lang`: its code through the catalogue; an uncoded reason (words
/// only) translated where its words are known, else said as a plain "check this".
pub fn field_message(lang: Lang, violation: &FieldViolation) -> String {
    said(lang, &violation.code, &violation.params, &violation.reason)
}

/// A reason given as code, parameters and English words (a field violation's, an import
/// row's), in `lang`.
pub fn said(lang: Lang, code: &str, params: &BTreeMap<String, String>, english: &str) -> String {
    message(lang, code, params).unwrap_or_else(|| translate_reason(lang, english))
}

/// What an HTTP status means, when the problem has no code the catalogue knows.
pub fn status_message(lang: Lang, status: u16) -> String {
    let code = code_of_status(status);
    message(lang, code, &BTreeMap::new()).unwrap_or_else(|| lang.pick("无法办理", "refused").into())
}

/// The code a problem without one of its own carries, by its HTTP status.
pub fn code_of_status(status: u16) -> &'static str {
    match status {
        400 => "invalid_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        503 => "unavailable",
        504 => "timeout",
        500..=599 => "internal",
        _ => "refused",
    }
}

/// A thing a service says it could not find, as people call it.
fn thing(lang: Lang, what: &str) -> String {
    let (zh, en) = match what {
        "centre" => ("服务中心", "centre"),
        "resident" => ("居民", "resident"),
        "household" => ("户", "household"),
        "offering" => ("服务项目", "offering"),
        "fee charge" => ("应收费用", "fee charge"),
        "payment" => ("收款记录", "payment"),
        "session" | "session of this booking" => ("场次", "session"),
        "booking" => ("预约", "booking"),
        "facility" => ("场地", "facility"),
        "volunteer" => ("志愿者", "volunteer"),
        "opportunity" => ("志愿岗位", "opportunity"),
        "shift" => ("班次", "shift"),
        "assignment" => ("报名", "assignment"),
        "hour entry" | "hours" => ("时长记录", "hour entry"),
        "staff member" | "staff" => ("工作人员", "staff member"),
        "board member" => ("理事会成员", "board member"),
        "board decision" => ("理事会决议", "board decision"),
        "review" => ("运营管理评估", "review"),
        "review item" => ("评估项目", "review item"),
        "group" => ("团队", "group"),
        "entry" | "journal entry" => ("分录", "journal entry"),
        "account" => ("账号", "account"),
        "partner" => ("合作方", "partner"),
        "agreement" => ("合作协议", "agreement"),
        "survey" => ("问卷", "survey"),
        "suggestion" => ("建议", "suggestion"),
        "notice" => ("通知", "notice"),
        "thread" => ("话题", "thread"),
        "post" => ("帖子", "post"),
        "follow-up" | "follow_up" => ("回访", "follow-up"),
        "inspection" => ("检查记录", "inspection"),
        "survey template" | "template" => ("问卷模板", "survey template"),
        "" => ("记录", "record"),
        other => ("记录", other),
    };
    lang.pick(zh, en).to_owned()
}

/// A request field's name in a sentence (`starts_at` as 开始时间).
fn field_name(lang: Lang, field: &str) -> String {
    let (zh, en) = match field {
        "starts_at" => ("开始时间", "starts_at"),
        "issued_on" => ("发证日期", "issued_on"),
        "valid_from" => ("生效日期", "valid_from"),
        "from" => ("开始日期", "from"),
        "opens" => ("开放时间", "opens"),
        "period_start" => ("开始日期", "period_start"),
        "min_age" => ("最低年龄", "min_age"),
        "starts_on" => ("开始日期", "starts_on"),
        "name" => ("姓名", "name"),
        "gender" => ("性别", "gender"),
        "date_of_birth" => ("出生日期", "date_of_birth"),
        "publish_from" => ("开始显示时间", "publish_from"),
        other => ("前一项", other),
    };
    lang.pick(zh, en).to_owned()
}

/// `2026-11` as 2026年11月.
fn month_words(lang: Lang, month: &str) -> String {
    match (lang, month.split_once('-')) {
        (Lang::Zh, Some((year, m))) => {
            format!("{year}年{}月", m.trim_start_matches('0'))
        }
        (Lang::Zh, None) => "该月".into(),
        (Lang::En, _) => month.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn accept_language_picks_the_heaviest_language_it_knows() {
        assert_eq!(Lang::from_accept_language(""), Lang::Zh);
        assert_eq!(Lang::from_accept_language("en"), Lang::En);
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Lang::Zh
        );
        assert_eq!(
            Lang::from_accept_language("fr, en;q=0.5, zh;q=0.7"),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language("de"), Lang::Zh);
        assert_eq!(Lang::from_accept_language("zh;q=0, en"), Lang::En);
    }

    #[test]
    fn a_code_reads_with_its_parameters_in_both_languages() {
        let p = params(&[("min_age", "60"), ("age_band", "18-59")]);
        assert_eq!(
            message(Lang::Zh, "ineligible.min_age", &p).unwrap(),
            "不符合参加条件：本项目限 60 岁及以上居民参加"
        );
        assert!(
            message(Lang::En, "ineligible.min_age", &p)
                .unwrap()
                .contains("ages 60 and over")
        );
        let categories = params(&[("categories", "elderly,low_income")]);
        assert_eq!(
            message(Lang::Zh, "ineligible.category", &categories).unwrap(),
            "不符合参加条件：本项目只面向老年人或低收入居民"
        );
        assert_eq!(message(Lang::Zh, "no.such.code", &p), None);
    }

    #[test]
    fn a_match_reason_names_skills_and_certifications_in_chinese() {
        let p = params(&[("skills", "first_aid,cooking")]);
        assert_eq!(
            message(Lang::Zh, "match.lacks_skills", &p).unwrap(),
            "缺少技能：急救、烹饪"
        );
        let p = params(&[
            ("certifications", "first_aid"),
            ("background_check", "missing"),
        ]);
        assert_eq!(
            message(Lang::Zh, "volunteer.not_qualified", &p).unwrap(),
            "该志愿者不符合岗位要求：缺少或已过期的急救证、无犯罪记录证明"
        );
    }

    #[test]
    fn no_chinese_message_shows_a_raw_code_or_english_word() {
        // Every code the catalogue knows, with typical parameters: the Chinese words hold
        // no ASCII letters but the units and names a parameter carries.
        let p = params(&[
            ("min", "1"),
            ("max", "10"),
            ("min_age", "60"),
            ("max_age", "13"),
            ("categories", "elderly"),
            ("status", "moved_out"),
            ("next", "in_progress"),
            ("what", "offering"),
            ("hours_before", "2"),
            ("period", "2026-11"),
            ("first_open", "2026-10"),
            ("other", "starts_at"),
            ("skills", "first_aid,cooking"),
            ("kind", "first_aid"),
            ("days", "30"),
            ("hours", "2.5"),
            ("certifications", "first_aid"),
            ("background_check", "missing"),
        ]);
        for code in [
            "required",
            "length",
            "too_long",
            "ineligible.min_age",
            "ineligible.category",
            "ineligible.status",
            "checkin.not_open",
            "checkin.undo_other_day",
            "checkin.undo_ended",
            "not_found",
            "period.closed",
            "period.out_of_order",
            "suggestion.out_of_order",
            "volunteer.not_active",
            "not_after",
            "national_id.check_character",
            "match.lacks_skills",
            "match.certification_missing",
            "match.recent_hours",
            "volunteer.not_qualified",
        ] {
            let zh = message(Lang::Zh, code, &p).expect(code);
            assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "{code}: {zh}");
        }
    }
}

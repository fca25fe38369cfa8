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
    let (zh, en): (String, String) = match code {
        // The form of a field.
        "required" => ("必填".into(), "is required".into()),
        "uuid" => ("选择有误，请重新选择".into(), "must be a UUID".into()),
        "date" => (
            "请填写日期，格式为 年-月-日".into(),
            "must be a date as YYYY-MM-DD".into(),
        ),
        "month" => (
            "请填写月份，格式为 年-月".into(),
            "must be a month, YYYY-MM".into(),
        ),
        "time_of_day" => (
            "请填写时间，格式为 时:分".into(),
            "must be a time as HH:MM".into(),
        ),
        "instant" => ("时间不正确".into(), "is not a valid time".into()),
        "length" => (
            format!("请填写 {} 到 {} 个字", p("min"), p("max")),
            format!("must be {} to {} characters", p("min"), p("max")),
        ),
        "too_long" => (
            format!("最多 {} 个字", p("max")),
            format!("must be at most {} characters", p("max")),
        ),
        "out_of_range" => (
            format!("须在 {} 到 {} 之间", p("min"), p("max")),
            format!("must be between {} and {}", p("min"), p("max")),
        ),
        "one_of" => (
            "请从可选项中选择".into(),
            format!("must be one of {}", p("allowed")),
        ),
        "too_short" => (
            format!("至少 {} 个字", p("min")),
            format!("must be at least {} characters", p("min")),
        ),
        "too_small" => (
            format!("不能小于 {}", p("min")),
            format!("must be at least {}", p("min")),
        ),
        "too_large" => (
            format!("不能大于 {}", p("max")),
            format!("must be at most {}", p("max")),
        ),
        "too_many" => (
            format!("最多 {} 项", p("max")),
            format!("must name at most {}", p("max")),
        ),
        "count" => (
            format!("须有 {} 到 {} 项", p("min"), p("max")),
            format!("must hold {} to {}", p("min"), p("max")),
        ),
        "below" => (
            format!("不能小于{}", field_name(lang, p("other"))),
            format!("must not be below {}", p("other")),
        ),
        "before" => (
            format!("不能早于{}", field_name(lang, p("other"))),
            format!("must not be before {}", p("other")),
        ),
        "before_birth" => ("不能早于出生日期".into(), "must not be before the resident was born".into()),
        "age_band_limit" => (
            "年龄限制须与登记的年龄段一致（如 14、18、60、80 岁）".into(),
            "must lie on the registry's age bands".into(),
        ),
        "invalid_value" => ("超出允许范围".into(), "out of range".into()),
        "roles.required" => ("请至少选择一个角色".into(), "name at least one role".into()),
        "roles.centre_required" => (
            "中心岗位至少选择一个中心".into(),
            "a centre role needs at least one centre".into(),
        ),
        "scopes.required" => ("请至少选择一项授权范围".into(), "name at least one scope".into()),
        "username.taken" => ("用户名已被占用".into(), "is taken".into()),
        "certificate.expired" => ("证书已过期".into(), "has expired already".into()),
        "range.both" => (
            "请同时填写开始和结束时间，或都不填".into(),
            "give both starts_at and ends_at, or neither".into(),
        ),
        "range.within_year" => (
            "结束日期须晚于开始日期，且相隔不超过一年".into(),
            "must be after from, within a year".into(),
        ),
        "series.end" => (
            "请填写结束日期或次数，二选一".into(),
            "give an end date or a count, not both".into(),
        ),
        "series.too_long" => (
            "结束日期须在开始后三年以内".into(),
            "must be within three years of starts_on".into(),
        ),
        "shift.too_long" => ("一个班次最长 24 小时".into(), "a shift lasts at most 24 hours".into()),
        "household.has_head" => ("这一户已有户主".into(), "the household has a head already".into()),
        "household.member_elsewhere" => (
            "该居民已属于另一户".into(),
            "already belongs to a household".into(),
        ),
        "suggestion.reply_required" => ("答复时请填写答复内容".into(), "an answer needs a reply".into()),
        "donation.anonymous_with_donor" => (
            "匿名捐赠不填写捐赠人".into(),
            "an anonymous donation names no donor".into(),
        ),
        "donation.donor_required" => (
            "请填写捐赠人姓名，或选择匿名捐赠".into(),
            "is required unless the donation is anonymous".into(),
        ),
        "survey.no_answer" => ("请至少回答一题".into(), "give at least one answer".into()),
        "survey.duplicate_answer" => ("每题只能回答一次".into(), "answer each question at most once".into()),
        "review.no_score" => ("请至少为一项打分".into(), "at least one criterion is scored".into()),
        "review.duplicate_score" => ("每项只能打一次分".into(), "each criterion is scored once".into()),
        "range.within_day" => (
            "结束时间须晚于开始时间，且在 24 小时以内".into(),
            "must be after starts_at, within 24 hours".into(),
        ),
        "weekdays" => ("请选择星期一到星期日".into(), "must be weekdays 1 (Monday) to 7 (Sunday)".into()),
        "series.empty" => (
            "按这个规则，开始和结束日期之间没有场次".into(),
            "the rule gives no session between starts_on and until".into(),
        ),
        "offering.provider_id_not_allowed" => (
            "由本中心提供时不填写合作方".into(),
            "must be empty when the centre provides the offering".into(),
        ),
        "offering.concessions" => (
            "每项优惠须有类别和不为负数的价格".into(),
            "each needs a category and a price that is not negative".into(),
        ),
        "session.not_in_series" => (
            "该场次不属于系列活动，只能单独修改".into(),
            "this and following needs a session that belongs to a series".into(),
        ),
        "survey.unknown_question" => ("问卷中没有这道题".into(), "is not a question of this survey".into()),
        "survey.not_an_option" => ("请从题目的选项中选择".into(), "must be among the question's options".into()),
        "entry.line_side" => (
            "每行只能填借方或贷方其中一个，且须大于零".into(),
            "exactly one of debit_minor and credit_minor must be positive".into(),
        ),
        "entry.unbalanced" => ("借贷不平衡".into(), "debits must equal credits".into()),
        "account.unknown" => ("本中心的科目表中没有这个科目".into(), "is not an account of the centre's chart".into()),
        "account.own" => (
            "不能停用自己的账号，请由另一位主任办理".into(),
            "is your own account; another manager disables it".into(),
        ),
        "centre.code_fixed" => ("服务中心编号登记后不能修改".into(), "never changes once a centre exists".into()),
        "mask.unknown_field" => ("要修改的项目不正确".into(), "is not a field that can be changed".into()),
        "code.format" => (
            "只能用小写字母、数字和连字符".into(),
            "must be lower-case letters, digits or dashes".into(),
        ),
        "username.format" => (
            "用户名须为 2 到 32 个小写字母、数字或 . _ -".into(),
            "must be 2 to 32 lower-case letters, digits, '.', '_' or '-'".into(),
        ),
        "time_zone" => ("时区不正确".into(), "must be an IANA time zone such as Asia/Shanghai".into()),
        "phone.format" => ("电话号码格式不正确".into(), "must be digits, spaces, dashes, brackets or +".into()),
        "correction.whole_replacement" => (
            "您无法看到这一项的完整内容，整体替换时不能省略它".into(),
            "is not shown to your role in full, so a whole replacement must not leave it out".into(),
        ),
        "resident.changed" => ("居民资料刚被修改过，请重新打开后再改".into(), "changed meanwhile; read the resident again".into()),
        "household.no_address" => (
            "居民没有住址（楼栋或房号），不能建户".into(),
            "has no address (a building or a room) for the household".into(),
        ),
        "period.format" => (
            "请填写月份（2027-03）、季度（2027-Q1）或年份（2027）".into(),
            "must be a month (2027-03), a quarter (2027-Q1) or a year (2027)".into(),
        ),
        "range.within_36_months" => (
            "结束月份不能早于开始月份，且相隔不超过 36 个月".into(),
            "must not be before from_month, within 36 months".into(),
        ),
        "question.key" => (
            "题目编号须为不重复的小写英文，如 satisfaction".into(),
            "must be a unique lower-case key such as satisfaction".into(),
        ),
        "question.options" => ("选择题须有选项".into(), "a choice question needs options".into()),
        "status.final" => ("已故居民的状态不能再改".into(), "a deceased resident's status is final".into()),
        "status.unchanged" => (
            format!("状态已经是{}", status("status")),
            format!("is already {}", p("status")),
        ),
        "currency" => ("币种不正确".into(), "must be a three-letter ISO 4217 code such as CNY".into()),
        "currency.centre" => (
            "币种须与本中心的记账币种一致".into(),
            format!("must be {}, the centre's currency", p("currency")),
        ),
        "entry.two_lines" => ("一笔分录至少要有两行".into(), "an entry needs at least two lines".into()),
        "negative" => ("不能为负数".into(), "must not be negative".into()),
        "not_positive" => ("请填写大于零的金额".into(), "must be a positive amount".into()),
        "not_after" => (
            format!("须晚于{}", field_name(lang, p("other"))),
            format!("must be after {}", p("other")),
        ),
        "in_future" => ("不能晚于今天".into(), "must not be in the future".into()),
        "in_past" => ("不能早于现在".into(), "must not be in the past".into()),
        "text.control_characters" => (
            "含有无法识别的控制字符，请重新输入".into(),
            "must not contain control characters other than tab and line breaks".into(),
        ),
        "page_size.too_large" => (
            format!("每页最多 {} 条", p("max")),
            format!("must be at most {}", p("max")),
        ),
        "page_token.invalid" => (
            "翻页参数已失效，请从第一页重新查看".into(),
            "is not a page token of this list".into(),
        ),
        "idempotency_key.invalid" => (
            "请求编号格式不正确".into(),
            "must be 1 to 200 printable ASCII characters".into(),
        ),

        // A request as a whole, and what it names.
        "invalid_request" => (
            "填写的内容有误，请按提示修改".into(),
            "the request has invalid fields".into(),
        ),
        "not_found" => (
            format!("找不到该{}", thing(Lang::Zh, p("what"))),
            format!("{} not found", thing(Lang::En, p("what"))),
        ),
        "not_correctable" => (
            "这一项不能通过更正修改".into(),
            "cannot be changed by a correction".into(),
        ),
        "route_not_found" => ("没有这个地址".into(), "no such route".into()),
        "conflict" => ("与已有记录冲突".into(), "conflicts with an existing record".into()),
        "directory.unknown_centre" => (
            "找不到该服务中心（或其登记尚未同步）".into(),
            "is not a centre of the district (or its registration has not reached this service yet)".into(),
        ),
        "directory.not_a_resident" => (
            "不是本中心的居民".into(),
            "is not a resident of this centre".into(),
        ),
        "directory.not_staff" => (
            "不是本中心的工作人员".into(),
            "is not a staff member of this centre".into(),
        ),
        "directory.not_a_partner" => (
            "不是本中心的合作方".into(),
            "is not a partner of this centre".into(),
        ),

        // Residents.
        "national_id.length" => (
            "身份证号应为 18 位：17 位数字加 1 位校验码（数字或 X）".into(),
            "must be 18 characters: 17 digits and a check digit or X".into(),
        ),
        "national_id.old_form" => (
            "这是旧的 15 位号码，请填写现行身份证上的 18 位号码".into(),
            "is an old 15-digit number; enter the 18-digit number on the current card".into(),
        ),
        "national_id.region" => (
            "身份证号开头的地区码不正确".into(),
            "does not begin with a valid region code".into(),
        ),
        "national_id.birth_date" => (
            "身份证号中的出生日期不正确".into(),
            "contains a birth date that is impossible".into(),
        ),
        "national_id.check_character" => (
            "身份证号校验位不正确，请再核对一遍号码".into(),
            "has a wrong check character; please re-check the number".into(),
        ),
        "national_id.masked" | "phone.masked" => (
            "这是遮挡后的号码，请填写完整号码".into(),
            "is the masked value as read back, not the whole one".into(),
        ),
        "national_id.date_of_birth_mismatch" => (
            "与身份证号中的出生日期不符".into(),
            "does not match date_of_birth".into(),
        ),
        "national_id.gender_mismatch" => (
            "与身份证号中的性别不符".into(),
            "does not match gender".into(),
        ),
        "national_id.registered" => (
            "已有居民使用此身份证号登记".into(),
            "a resident with this national ID is already registered".into(),
        ),
        "phone.mobile" => (
            "手机号须为 11 位数字，例如 13812345678".into(),
            "must be an 11-digit mainland mobile number, e.g. 13812345678".into(),
        ),
        "gender" => ("请选择性别".into(), "must be `male` or `female`".into()),
        "date_of_birth.too_old" => (
            "出生日期须在近 130 年内".into(),
            "must be within the last 130 years".into(),
        ),
        "consent.guardian_required" => (
            format!("未满 {} 岁的居民须由监护人同意", p("age")),
            format!("a resident under {} needs a guardian's consent", p("age")),
        ),
        "consent.guardian_minor" => ("监护人须已成年".into(), "the guardian must be an adult".into()),
        "resident_probably_registered" => (
            "本中心已有姓名、出生日期和手机号都相同的居民，可能是同一人".into(),
            "a resident of this centre has the same name, date of birth and phone".into(),
        ),
        "household_exists" => (
            "这个地址已有一户，请把居民加入该户".into(),
            "a household is at this address already".into(),
        ),
        "centre.code_taken" => (
            "已有服务中心使用这个编号".into(),
            "another centre has this code".into(),
        ),

        // Residents' sign-in (the residents' site).
        "sign_in.too_many_codes" => (
            "获取验证码的次数太多了，请一小时后再试，或到服务中心前台办理".into(),
            "too many codes were asked for; try again in an hour, or at the centre's desk".into(),
        ),
        "sign_in.code_wrong" => (
            "验证码不对，请再看一下短信".into(),
            "the code is not right; check the message again".into(),
        ),
        "sign_in.code_expired" => (
            "验证码已过期或已经用过，请重新获取验证码".into(),
            "the code has expired or was used; ask for a new one".into(),
        ),
        "sign_in.too_many_tries" => (
            "验证码输错次数太多，请重新获取验证码".into(),
            "too many wrong tries; ask for a new code".into(),
        ),
        "sign_in.code_format" => (
            "验证码是 6 位数字，请再看一下短信".into(),
            "the code is 6 digits".into(),
        ),

        // Bookings.
        "ineligible.min_age" => (
            format!("不符合参加条件：本项目限 {} 岁及以上居民参加", p("min_age")),
            format!(
                "not eligible: the offering is for ages {} and over",
                p("min_age")
            ),
        ),
        "ineligible.max_age" => (
            format!("不符合参加条件：本项目限 {} 岁及以下居民参加", p("max_age")),
            format!(
                "not eligible: the offering is for ages up to {}",
                p("max_age")
            ),
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
        "ineligible.moved_out" => (
            "不符合参加条件：该居民已迁出本社区".into(),
            "not eligible: the resident has moved out of the community".into(),
        ),
        "ineligible.deceased" => (
            "不符合参加条件：该居民已登记为已故".into(),
            "not eligible: the resident is recorded as deceased".into(),
        ),
        "ineligible.status" => (
            format!("不符合参加条件：该居民状态为{}", status("status")),
            format!("not eligible: the resident is {}", status("status")),
        ),
        "ineligible.age_unknown" => (
            "不符合参加条件：该居民的年龄段未知".into(),
            "not eligible: the resident's age band is unknown".into(),
        ),
        "booking.resident_required" => (
            "请选择居民（只有中心自用场地时可以不选）".into(),
            "is required except when the centre books a facility itself".into(),
        ),
        "booking.already_booked" => (
            "该居民已预约（或已在候补名单上）".into(),
            "the resident already has a place (or a waitlist place) in this session".into(),
        ),
        "booking.attended" => (
            "该预约已签到，不能再取消".into(),
            "the booking was attended and can no longer be cancelled".into(),
        ),
        "booking.no_show" => (
            "该预约已记为未到".into(),
            "the booking was marked as a no-show".into(),
        ),
        "booking.cancelled" => ("该预约已取消".into(), "the booking is cancelled".into()),
        "booking.waitlisted" => (
            "该预约仍在候补，尚未确认".into(),
            "the booking is still on the waitlist".into(),
        ),
        "checkin.not_open" => (
            format!("签到尚未开始：活动开始前 {} 小时才能签到", p("hours_before")),
            format!(
                "check-in opens {} hours before the session",
                p("hours_before")
            ),
        ),
        "checkin.no_open_session" => (
            "这个预约现在没有可以签到的场次，请选择场次".into(),
            "no session of this booking is open for check-in now; name the session".into(),
        ),
        "checkin.session_no_show" => (
            "该场次已记为未到".into(),
            "the session was already marked as a no-show".into(),
        ),
        "checkin.no_place" => (
            "该预约在这个场次没有名额".into(),
            "the booking has no place in that session".into(),
        ),
        "offering.inactive" => ("该项目已停止提供".into(), "the offering is no longer offered".into()),
        "offering.no_upcoming_sessions" => (
            "该项目没有即将开始的场次".into(),
            "the offering has no upcoming sessions".into(),
        ),
        "offering.facility_has_no_sessions" | "offering.booked_by_range" => (
            "场地按时间段预约，没有场次".into(),
            "the offering is booked by time range".into(),
        ),
        "offering.booked_by_session" => (
            "该项目按场次预约".into(),
            "the offering is booked by session".into(),
        ),
        "offering.full" => ("名额已满".into(), "the offering is full".into()),
        "session.cancelled" => ("该场次已取消".into(), "the session is cancelled".into()),
        "session.over" => ("该场次已结束".into(), "the session is over".into()),
        "facility.range_required" => (
            "请选择开始和结束时间".into(),
            "a facility booking needs starts_at and ends_at".into(),
        ),
        "facility.closed_day" => (
            format!("场地 {} 不开放", p("date")),
            format!("the facility is closed on {}", p("date")),
        ),
        "facility.outside_hours" => (
            format!("场地开放时间为 {}–{}，须在同一天内", p("opens"), p("closes")),
            format!(
                "the facility is open {}–{} on one day",
                p("opens"),
                p("closes")
            ),
        ),
        "facility.held" => (
            format!(
                "「{}」在 {}–{} 已被占用",
                p("facility"),
                p("held_from"),
                p("held_until")
            ),
            format!(
                "«{}» is already held {}–{}",
                p("facility"),
                p("held_from"),
                p("held_until")
            ),
        ),
        "facility.taken" => (
            "该时段刚被其他人预约，请换一个时段".into(),
            "the facility was booked for an overlapping time by another request just now".into(),
        ),
        "facility.name_taken" => (
            "本中心已有同名场地".into(),
            "the centre already has a facility with this name".into(),
        ),

        // Volunteers.
        "volunteer.resident_inactive" => (
            format!("该居民已不在册（{}）", status("status")),
            format!("not qualified: the resident is no longer active ({})", status("status")),
        ),
        "volunteer.under_14" => (
            "未满 14 岁的居民不能登记为志愿者".into(),
            "a resident under 14 cannot volunteer".into(),
        ),
        "volunteer.guardian_consent" => (
            "14 至 17 岁的志愿者须有监护人同意".into(),
            "a volunteer aged 14 to 17 needs a guardian's consent".into(),
        ),
        "volunteer.already_registered" => (
            "该居民已经是志愿者".into(),
            "the resident is already a volunteer".into(),
        ),
        "volunteer.left" => (
            "该志愿者已退出，请重新登记".into(),
            "the volunteer has left; register again instead".into(),
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
        "match.available_whole" => ("整个班次都有空".into(), "available for the whole shift".into()),
        "match.available_part" => ("只有部分时间有空".into(), "available for part of the shift".into()),
        "match.not_available" => (
            "这个时段没有登记空闲时间".into(),
            "no availability window at this time".into(),
        ),
        "match.has_skills" => ("具备全部所需技能".into(), "has every required skill".into()),
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
        "match.no_background_check" => (
            "岗位涉及未成年人，但没有无犯罪记录证明".into(),
            "works with minors and has no background check on record".into(),
        ),
        "match.recent_hours" => (
            format!("近 {} 天已核实服务 {} 小时", p("days"), p("hours")),
            format!("{} verified hours in the last {} days", p("hours"), p("days")),
        ),
        "match.already_signed_up" => ("已报名这个班次".into(), "already signed up for this shift".into()),
        "match.overlapping" => ("已报名时间重叠的班次".into(), "already on an overlapping shift".into()),
        "shift.over" => ("该班次已结束".into(), "the shift is over".into()),
        "shift.full" => ("该班次已满".into(), "the shift is full".into()),
        "shift.overlapping" => (
            "该志愿者已报名这个或时间重叠的班次".into(),
            "the volunteer is already on this or an overlapping shift".into(),
        ),
        "assignment.not_withdrawable" => (
            format!("该报名{}，不能再退出", status("status")),
            format!("the assignment is {}; it can no longer be withdrawn", status("status")),
        ),
        "assignment.status" => (
            format!("该报名{}", status("status")),
            format!("the assignment is {}", status("status")),
        ),
        "assignment.not_checked_in" => (
            "请先签到再签退".into(),
            "check in first".into(),
        ),
        "assignment.check_out_before_check_in" => (
            "签退时间须晚于签到时间".into(),
            "the check-out must come after the check-in".into(),
        ),
        "assignment.other_volunteer" => (
            "该报名属于另一位志愿者".into(),
            "the assignment is another volunteer's".into(),
        ),
        "hours.already_recorded" => (
            "这次服务的时长已经登记过".into(),
            "hours for this assignment are already recorded".into(),
        ),
        "hours.already_decided" => (
            format!("这条时长记录{}", status("status")),
            format!("the entry is already {}", status("status")),
        ),
        "hours.self_verification" => (
            "服务时长须由登记人以外的人核实".into(),
            "hours are verified by someone other than who logged them".into(),
        ),
        "staff.employment_ended" => ("聘用已结束".into(), "the employment has already ended".into()),
        "staff.ends_before_start" => (
            format!("聘用开始于 {}，结束日期不能更早", p("employed_from")),
            format!(
                "the employment began on {}; it cannot end before",
                p("employed_from")
            ),
        ),
        "training.wrong_audience" => (
            "这门培训不面向这类人员".into(),
            "the course is for another audience".into(),
        ),
        "group.name_taken" => (
            "本中心已有同名团队".into(),
            "the centre already has a group with this name".into(),
        ),

        // Money.
        "period.closed" => (
            format!("{} 已结账，不能再记账", month_words(lang, p("period"))),
            format!("the period {} is closed", p("period")),
        ),
        "period.already_closed" => ("该月已经结账".into(), "the period is already closed".into()),
        "period.not_ended" => ("该月尚未结束，不能结账".into(), "has not ended yet".into()),
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
        "entry.already_reversed" => (
            "该分录已经冲销过".into(),
            "the entry has already been reversed".into(),
        ),
        "entry.reversal_of_reversal" => (
            "冲销分录不能再冲销，请另记一笔".into(),
            "a reversal cannot itself be reversed; post a new entry instead".into(),
        ),
        "ledger.refused" => ("账簿拒绝了这次修改".into(), "the ledger refused the change".into()),

        // Evaluation.
        "suggestion.closed" => (
            "该建议已关闭".into(),
            "the suggestion is closed; nothing follows".into(),
        ),
        "suggestion.out_of_order" => (
            format!("该建议下一步只能是「{}」", status("next")),
            format!(
                "a suggestion goes from {} to {}",
                p("from"),
                p("next")
            ),
        ),
        "suggestion.unknown_status" => ("状态不正确".into(), "unknown status".into()),
        "forum.locked" => (
            "这个话题已关闭，不能再回复".into(),
            "the thread is locked; no more replies".into(),
        ),
        "notice.session_without_offering" => (
            "选择场次前请先选择服务项目".into(),
            "a session to book needs its offering".into(),
        ),

        // Imports.
        "import.encoding" => (
            "无法识别文件编码，请选择 UTF-8 或 GBK".into(),
            "is not an encoding the import reads (UTF-8 or GBK)".into(),
        ),
        "import.unreadable" => (
            "无法读取文件，请确认是 CSV 表格".into(),
            "cannot be read as a CSV sheet".into(),
        ),
        "import.no_heading" => ("表格没有标题行".into(), "has no readable heading row".into()),
        "import.mapping.unknown_field" => (
            "对应关系中有无法导入的项目".into(),
            format!("`{}` is not an importable field", p("field")),
        ),
        "import.mapping.required" => (
            format!("表格中缺少「{}」这一列", field_name(lang, p("field"))),
            format!("no column for `{}`", p("field")),
        ),
        "import.row.csv" => ("这一行不是有效的表格行".into(), "is not a valid CSV row".into()),
        "import.row.relationship" => (
            "与户主关系填写有误".into(),
            "is not a relationship the household register uses".into(),
        ),
        "import.row.household_address" => (
            "填写了与户主关系，但缺少住址（楼栋或房号）".into(),
            "needs the household's address (building or room)".into(),
        ),
        "import.row.second_head" => (
            "这个住址的户已有户主".into(),
            "the household at this address has a head already".into(),
        ),
        "import.mapping.no_column" => (
            format!("表格中没有「{}」这一列", p("column")),
            format!("no column is headed `{}`", p("column")),
        ),

        "follow_up.already_decided" => (
            format!("这次回访已{}", status("status")),
            format!("the follow-up is already {}", p("status")),
        ),
        "idempotency.applied" => (
            "这个请求已经办理过，请查看结果，不要重复提交".into(),
            "the request with this Idempotency-Key was applied already".into(),
        ),
        "idempotency.answer_lost" => (
            "这个请求已经办理过，请查看结果，不要重复提交".into(),
            "the request with this Idempotency-Key was applied already, but its answer was lost".into(),
        ),
        "idempotency.key_reused" => (
            "请求编号已用于另一项请求，请重新提交".into(),
            "this Idempotency-Key was already used for a different request".into(),
        ),
        "request.too_large" => ("提交的内容太大或不完整".into(), "the request is too large or was not received whole".into()),

        // The gateway's own.
        "unauthenticated" => ("请先登录".into(), "sign in first".into()),
        "forbidden" => ("无权办理此事".into(), "the caller may not do this".into()),
        "rate_limited" => ("请求过于频繁，请稍后再试".into(), "too many requests; try again shortly".into()),
        "unavailable" => (
            "服务暂时不可用，请稍后再试".into(),
            "the service is unavailable; try again shortly".into(),
        ),
        "timeout" => ("服务响应超时，请稍后再试".into(), "the service took too long".into()),
        "internal" => ("系统出错，请稍后再试".into(), "internal error".into()),
        "payload_too_large" => ("上传的内容太大".into(), "the request body is too large".into()),
        "unsupported_media_type" => (
            "请求格式不正确".into(),
            "the request body's type is not accepted".into(),
        ),
        "refused" => ("无法办理".into(), "the request was refused".into()),
        _ => return None,
    };
    Some(match lang {
        Lang::Zh => zh,
        Lang::En => en,
    })
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
        "session" | "session of this booking" => ("场次", "session"),
        "booking" => ("预约", "booking"),
        "facility" => ("场地", "facility"),
        "volunteer" => ("志愿者", "volunteer"),
        "opportunity" => ("志愿岗位", "opportunity"),
        "shift" => ("班次", "shift"),
        "assignment" => ("报名", "assignment"),
        "hour entry" | "hours" => ("时长记录", "hour entry"),
        "staff member" | "staff" => ("工作人员", "staff member"),
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

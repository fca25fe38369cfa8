//! Surveys' rules, without I/O: what a template may hold, what an answer to each kind of
//! question may be, one response per invitation, and when a response sets off the staff
//! member's quality figures (`evaluation.staff.quality_updated`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use linli_platform::error::{Error, Reason, Violations};
use uuid::Uuid;

use super::period::Period;

pub const TEMPLATE_KINDS: [&str; 3] = ["satisfaction", "awareness", "periodic"];
pub const QUESTION_KINDS: [&str; 4] = ["scale", "single", "multiple", "text"];
pub const TITLE_MAX: usize = 200;
pub const QUESTIONS_MAX: usize = 50;
pub const ANSWER_TEXT_MAX: usize = 2000;

/// A question as a template holds it (or as it is asked to hold it).
#[derive(Clone, Copy, Debug)]
pub struct Question<'a> {
    pub key: &'a str,
    pub text: &'a str,
    pub kind: &'a str,
    pub options: &'a [String],
}

/// What a template may be: a known kind, a title, 1 to 50 questions each with a unique
/// lower-case key, a known kind, a text and, for a choice, options.
pub fn template(kind: &str, title: &str, questions: &[Question<'_>]) -> Result<(), Violations> {
    let mut v = Violations::default();
    if !TEMPLATE_KINDS.contains(&kind) {
        v.push(
            "template.kind",
            Reason::new("one_of", "must be satisfaction, awareness or periodic"),
        );
    }
    if title.trim().is_empty() || title.chars().count() > TITLE_MAX {
        v.push("template.title", Reason::length(1, TITLE_MAX));
    }
    if questions.is_empty() || questions.len() > QUESTIONS_MAX {
        v.push(
            "template.questions",
            Reason::new("count", "must hold 1 to 50 questions")
                .with("min", 1)
                .with("max", QUESTIONS_MAX),
        );
    }
    let mut keys = std::collections::HashSet::new();
    for (n, q) in questions.iter().enumerate() {
        let valid_key = q.key.len() <= 40
            && q.key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && (q.key.chars()).all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_key || !keys.insert(q.key) {
            v.push(
                format!("template.questions[{n}].key"),
                Reason::new(
                    "question.key",
                    "must be a unique lower-case key such as satisfaction",
                ),
            );
        }
        if !QUESTION_KINDS.contains(&q.kind) {
            v.push(
                format!("template.questions[{n}].kind"),
                Reason::new("one_of", "must be scale, single, multiple or text"),
            );
        }
        if matches!(q.kind, "single" | "multiple") && q.options.is_empty() {
            v.push(
                format!("template.questions[{n}].options"),
                Reason::new("question.options", "a choice question needs options"),
            );
        }
        if q.text.trim().is_empty() {
            v.push(format!("template.questions[{n}].text"), Reason::required());
        }
    }
    v.into_result(|| ())
}

/// An answer as given.
#[derive(Clone, Copy, Debug)]
pub struct Given<'a> {
    pub key: &'a str,
    pub score: Option<i32>,
    pub choices: &'a [String],
    pub text: &'a str,
}

/// An answer as kept: a score only for a scale question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub key: String,
    pub score: Option<i32>,
    pub choices: Vec<String>,
    pub text: String,
}

/// An invitation is answered once.
pub fn not_answered(answered_at: Option<DateTime<Utc>>) -> Result<(), Error> {
    match answered_at {
        None => Ok(()),
        Some(_) => Err(Error::Conflict(Reason::new(
            "survey.already_answered",
            "this invitation was already answered; one response per invitation",
        ))),
    }
}

/// The answers to keep from those `given` to the survey's `questions`: each to one of its
/// questions, at most once, within what the question's kind allows; at least one.
pub fn answers(questions: &[Question<'_>], given: &[Given<'_>]) -> Result<Vec<Answer>, Violations> {
    let mut v = Violations::default();
    let mut answers = Vec::new();
    for (n, a) in given.iter().enumerate() {
        let field = |what: &str| format!("answers[{n}].{what}");
        let Some(q) = questions.iter().find(|q| q.key == a.key) else {
            v.push(
                field("key"),
                Reason::new(
                    "survey.unknown_question",
                    "is not a question of this survey",
                ),
            );
            continue;
        };
        match q.kind {
            "scale" if !a.score.is_some_and(|s| (1..=5).contains(&s)) => v.push(
                field("score"),
                Reason::new("out_of_range", "must be 1 to 5")
                    .with("min", 1)
                    .with("max", 5),
            ),
            "single" if a.choices.len() != 1 || !q.options.contains(&a.choices[0]) => v.push(
                field("choices"),
                Reason::new(
                    "survey.not_an_option",
                    "must be one of the question's options",
                ),
            ),
            "multiple" if a.choices.iter().any(|c| !q.options.contains(c)) => v.push(
                field("choices"),
                Reason::new(
                    "survey.not_an_option",
                    "must be among the question's options",
                ),
            ),
            "text" if a.text.chars().count() > ANSWER_TEXT_MAX => v.push(
                field("text"),
                Reason::new("too_long", "must be at most 2000 characters")
                    .with("max", ANSWER_TEXT_MAX),
            ),
            _ => {}
        }
        answers.push(Answer {
            key: a.key.to_owned(),
            score: if q.kind == "scale" { a.score } else { None },
            choices: a.choices.to_vec(),
            text: a.text.to_owned(),
        });
    }
    let mut seen = std::collections::HashSet::new();
    if answers.iter().any(|a| !seen.insert(a.key.clone())) {
        v.push(
            "answers",
            Reason::new(
                "survey.duplicate_answer",
                "answer each question at most once",
            ),
        );
    }
    if answers.is_empty() {
        v.push(
            "answers",
            Reason::new("survey.no_answer", "give at least one answer"),
        );
    }
    v.into_result(|| answers)
}

/// A resident asks for an awareness survey only (知晓度调查); the others come to them.
pub fn resident_may_ask(kind: &str) -> bool {
    kind == "awareness"
}

/// A resident's awareness invitation stands for 30 days: asking again meanwhile gives the
/// same one, answered or not, so each resident answers at most once a month, as the
/// awareness figure counts them.
pub fn still_stands(created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    created_at > now - chrono::Duration::days(30)
}

/// What a response sets off: the figures of the staff member who delivered the service
/// for the month it was answered in (in the centre's zone), republished for their reviews.
/// A response to an invitation no staff member delivered sets off nothing.
pub fn quality_update(staff: Option<Uuid>, now: DateTime<Utc>, zone: Tz) -> Option<(Uuid, Period)> {
    staff.map(|staff| {
        (
            staff,
            Period::month_of(now.with_timezone(&zone).date_naive()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn options() -> Vec<String> {
        vec!["是".into(), "否".into()]
    }

    /// A scale question and a single choice among `options`.
    fn questions(options: &[String]) -> [Question<'_>; 2] {
        [
            Question {
                key: "satisfaction",
                text: "满意吗",
                kind: "scale",
                options: &[],
            },
            Question {
                key: "again",
                text: "还来吗",
                kind: "single",
                options,
            },
        ]
    }

    #[test]
    fn a_template_is_refused_field_by_field() {
        let opts = options();
        let good = questions(&opts);
        assert!(template("satisfaction", "服务满意度", &good).is_ok());
        let bad = [
            Question {
                key: "Again",
                text: " ",
                kind: "multiple",
                options: &[],
            },
            good[0],
            good[0],
        ];
        let fields: Vec<String> = (template("weekly", "", &bad).unwrap_err().0.into_iter())
            .map(|f| f.field)
            .collect();
        assert_eq!(
            fields,
            [
                "template.kind",
                "template.title",
                "template.questions[0].key",
                "template.questions[0].options",
                "template.questions[0].text",
                "template.questions[2].key",
            ]
        );
    }

    #[test]
    fn answers_keep_to_their_questions_once_each() {
        let opts = options();
        let questions = questions(&opts);
        let yes = vec!["是".to_owned()];
        let given = |key, score, choices: &'static [String]| Given {
            key,
            score,
            choices,
            text: "",
        };
        let kept = answers(
            &questions,
            &[
                given("satisfaction", Some(5), &[]),
                Given {
                    choices: &yes,
                    ..given("again", Some(3), &[])
                },
            ],
        )
        .unwrap();
        assert_eq!(kept[1].score, None, "a score only for a scale");
        let refused = |g: &[Given<'_>]| {
            (answers(&questions, g).unwrap_err().0.into_iter())
                .map(|f| (f.field, f.code))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            refused(&[
                given("satisfaction", Some(6), &[]),
                given("mood", None, &[])
            ]),
            [
                ("answers[0].score".to_owned(), "out_of_range".to_owned()),
                (
                    "answers[1].key".to_owned(),
                    "survey.unknown_question".to_owned()
                ),
            ]
        );
        assert_eq!(
            refused(&[
                given("satisfaction", Some(4), &[]),
                given("satisfaction", Some(4), &[])
            ])[0]
                .1,
            "survey.duplicate_answer"
        );
        assert_eq!(refused(&[])[0].1, "survey.no_answer");
        assert!(not_answered(None).is_ok());
        assert!(matches!(
            not_answered(Some(Utc::now())),
            Err(Error::Conflict(_))
        ));
    }

    #[test]
    fn a_resident_asks_for_the_awareness_survey_once_a_month() {
        let now = Utc.with_ymd_and_hms(2027, 3, 31, 0, 0, 0).unwrap();
        assert!(resident_may_ask("awareness") && !resident_may_ask("satisfaction"));
        assert!(still_stands(now - chrono::Duration::days(29), now));
        assert!(!still_stands(now - chrono::Duration::days(30), now));
    }

    #[test]
    fn a_response_updates_the_staff_members_figures_for_the_local_month() {
        let staff = Uuid::new_v4();
        let late = Utc.with_ymd_and_hms(2027, 3, 31, 17, 0, 0).unwrap();
        let (who, month) = quality_update(Some(staff), late, chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!((who, month.name()), (staff, "2027-04".to_owned()));
        assert!(quality_update(None, late, chrono_tz::Asia::Shanghai).is_none());
    }
}

//! Linli's words, in Simplified Chinese (the default) and English: the catalogue that says
//! every stable refusal code of the services with its parameters, and the vocabularies of
//! their codes (categories, statuses, skills, certifications), days, hours and money. The
//! gateway's problem documents, the staff console and the residents' site all speak
//! through it, so a code is worded once.

pub mod catalogue;
pub mod terms;

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

//! The participation routes: a centre's notices (通知公告 and 活动预告), which evaluation's
//! participation part keeps beside the suggestion box. Staff write, schedule, pin and
//! target them here; residents read theirs on the residents' site, not through `/v1`.

use linli_proto::evaluation::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::json::{FromPb, optional_timestamp};
use crate::problem::Problem;
use crate::{call, forward, page, reply};

reply! {
    /// A notice: what staff wrote, and where it stands now.
    pub struct Notice from pb::Notice as n {
        pub id: String = n.id.clone(),
        pub title: String = draft(&n).title,
        pub body: String = draft(&n).body,
        /// notice (通知公告) or activity (活动预告).
        pub kind: String = draft(&n).kind,
        pub publish_from: Option<String> = FromPb::from_pb(draft(&n).publish_from),
        /// Absent: shown with no end.
        pub publish_until: Option<String> = FromPb::from_pb(draft(&n).publish_until),
        pub pinned: bool = draft(&n).pinned,
        /// With `audience_age_bands`, who it is for: everyone when both are empty.
        pub audience_categories: Vec<String> = draft(&n).audience_categories,
        pub audience_age_bands: Vec<String> = draft(&n).audience_age_bands,
        pub offering_id: Option<String> = FromPb::from_pb(draft(&n).offering_id),
        pub session_id: Option<String> = FromPb::from_pb(draft(&n).session_id),
        /// scheduled, published or ended, at the answer.
        pub state: String,
        pub created_at: Option<String>,
        pub updated_at: Option<String>,
    }
}

fn draft(notice: &pb::Notice) -> pb::NoticeDraft {
    notice.draft.clone().unwrap_or_default()
}

page!(pub struct NoticeList from pb::ListNoticesResponse { pub notices: Vec<Notice> });

/// What staff write on a notice; a change sends the whole of it again.
#[derive(Deserialize, ToSchema)]
pub struct NoticeDraft {
    pub title: String,
    /// Shown as text: markup is never run.
    pub body: String,
    /// notice (default) or activity.
    pub kind: Option<String>,
    /// RFC 3339; default now.
    pub publish_from: Option<String>,
    /// RFC 3339; absent for no end.
    pub publish_until: Option<String>,
    #[serde(default)]
    pub pinned: bool,
    /// elderly, minor, disability, low_income, living_alone.
    #[serde(default)]
    pub audience_categories: Vec<String>,
    /// 0-13, 14-17, 18-59, 60-79, 80+.
    #[serde(default)]
    pub audience_age_bands: Vec<String>,
    pub offering_id: Option<String>,
    /// A session of `offering_id` to book from.
    pub session_id: Option<String>,
}

impl NoticeDraft {
    fn into_pb(self) -> Result<pb::NoticeDraft, Problem> {
        Ok(pb::NoticeDraft {
            publish_from: optional_timestamp("publish_from", &self.publish_from)?,
            publish_until: optional_timestamp("publish_until", &self.publish_until)?,
            title: self.title,
            body: self.body,
            kind: self.kind.unwrap_or_default(),
            pinned: self.pinned,
            audience_categories: self.audience_categories,
            audience_age_bands: self.audience_age_bands,
            offering_id: self.offering_id.unwrap_or_default(),
            session_id: self.session_id.unwrap_or_default(),
        })
    }
}

forward! { tag = "participation", "Notices and activity announcements for a centre's residents, and the moderation of their forum";
    /// The centre's notices, pinned first, then the latest to show first.
    get "/v1/centres/{centre_id}/notices" => list_notices(g, centre_id; query q: pb::ListNoticesRequest)
        -> 200 NoticeList = evaluation.list_notices

    /// Issues a notice: shown to its audience from publish_from until publish_until, and
    /// published as the event evaluation.notice.published.
    post "/v1/centres/{centre_id}/notices" => create_notice(g, centre; body n: NoticeDraft) -> 201 Notice {
        call!(g.evaluation.create_notice(pb::CreateNoticeRequest {
            centre_id: g.centre(&centre)?,
            notice: Some(n.into_pb()?),
        }))
    }

    /// The forum's threads, hidden ones too, pinned first, then the latest activity.
    get "/v1/centres/{centre_id}/forum/threads" => list_forum_threads(g, centre_id; query q: pb::ListForumThreadsRequest)
        -> 200 pb::ListForumPostsResponse = evaluation.list_forum_threads

    /// A thread with every reply, hidden ones too.
    get "/v1/centres/{centre_id}/forum/threads/{thread_id}" => get_forum_thread(g, centre, thread_id) -> 200 pb::ListForumPostsResponse {
        call!(g.evaluation.get_forum_thread(pb::GetForumThreadRequest { centre_id: g.centre(&centre)?, thread_id }))
    }

    /// Posts residents reported and staff have not hidden, the most reported first.
    get "/v1/centres/{centre_id}/forum/reported"
        => list_reported_forum_posts(g, centre_id; query q: pb::ListReportedForumPostsRequest)
        -> 200 pb::ListForumPostsResponse = evaluation.list_reported_forum_posts

    /// Hides, restores, pins or locks a post.
    post "/v1/centres/{centre_id}/forum/posts/{post_id}/moderation"
        => moderate_forum_post(g, centre_id, post_id; body m: pb::ModerateForumPostRequest) -> 200 pb::ForumPost
        = evaluation.moderate_forum_post

    /// Replaces a notice's text, schedule, pin, audience and what to book (published
    /// again as an event).
    put "/v1/centres/{centre_id}/notices/{notice_id}" => update_notice(g, centre, notice_id; body n: NoticeDraft)
        -> 200 Notice {
        call!(g.evaluation.update_notice(pb::UpdateNoticeRequest {
            centre_id: g.centre(&centre)?,
            notice_id,
            notice: Some(n.into_pb()?),
        }))
    }
}

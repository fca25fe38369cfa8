//! The participation routes: a centre's notices (通知公告 and 活动预告), which evaluation's
//! participation part keeps beside the suggestion box. Staff write, schedule, pin and
//! target them here; residents read theirs on the residents' site, not through `/v1`.

use linli_proto::evaluation::v1 as pb;

use crate::forward;

forward! { tag = "participation", "Notices and activity announcements for a centre's residents, and the moderation of their forum";
    /// The centre's notices, pinned first, then the latest to show first.
    get "/v1/centres/{centre_id}/notices" => list_notices(g, centre_id; query q: pb::ListNoticesRequest)
        -> 200 pb::ListNoticesResponse = evaluation.list_notices

    /// Issues a notice: shown to its audience from publish_from until publish_until, and
    /// published as the event evaluation.notice.published.
    post "/v1/centres/{centre_id}/notices" => create_notice(g, centre_id; body n: pb::NoticeDraft) -> 201 pb::Notice
        = evaluation.create_notice(pb::CreateNoticeRequest, notice)

    /// The forum's threads, hidden ones too, pinned first, then the latest activity.
    get "/v1/centres/{centre_id}/forum/threads" => list_forum_threads(g, centre_id; query q: pb::ListForumThreadsRequest)
        -> 200 pb::ListForumPostsResponse = evaluation.list_forum_threads

    /// A thread with every reply, hidden ones too.
    get "/v1/centres/{centre_id}/forum/threads/{thread_id}" => get_forum_thread(g, centre_id, thread_id)
        -> 200 pb::ListForumPostsResponse = evaluation.get_forum_thread(pb::GetForumThreadRequest)

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
    put "/v1/centres/{centre_id}/notices/{notice_id}" => update_notice(g, centre_id, notice_id; body n: pb::NoticeDraft)
        -> 200 pb::Notice = evaluation.update_notice(pb::UpdateNoticeRequest, notice)
}

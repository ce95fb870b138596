//! The hotline pages in real headless Chromium, in Chinese: an operator takes a call at the
//! workbench (the caller's words carry markup that must stay text), transfers it to the
//! market regulator with the health bureau co-handling; the regulator's account replies;
//! the operator accepts the reply, records the follow-up call and closes the ticket; the
//! timeline tells the whole story; a search for 口罩 finds it with the word marked.
//!
//! Skipped like `browser.rs` when Chromium or chromedriver is absent.

use crate::browser::{browser, click, driver, fill, screenshot, text};
use crate::browser_cases::{choose, path, sign_in, texts, wait_attr, wait_contains, wait_text};
use crate::helpers::TestApp;
use fantoccini::{Client, Locator};
use serde_json::json;

/// What the caller says, with markup that must stay text.
const CONTENT: &str = "曲溪街道某大药房口罩卖50元一个 <img src=x onerror=alert(1)>";

/// Clicks the element `css` finds (a checkbox without an id).
async fn click_css(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn sign_out(c: &Client) {
    click(c, "logout").await;
    wait_text(c, "h1", "登录").await;
}

/// How many elements match `css`.
async fn count(c: &Client, css: &str) -> u64 {
    c.execute(
        "return document.querySelectorAll(arguments[0]).length;",
        vec![json!(css)],
    )
    .await
    .unwrap()
    .as_u64()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_taken_transferred_answered_followed_up_and_closed() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1024, 900).await;

    // The operator takes the call.
    sign_in(&c, &app, "hotline").await;
    c.goto(&app.url("/hotline")).await.unwrap();
    wait_text(&c, "h1", "政务热线工单").await;
    choose(&c, "channel", "phone").await;
    choose(&c, "category", "price_gouging").await;
    fill(&c, "content", CONTENT).await;
    fill(&c, "caller_name", "张三").await;
    fill(&c, "caller_phone", "13800138000").await;
    fill(&c, "place", "曲溪街道").await;
    click(&c, "intake-submit").await;
    wait_contains(&c, "#ticket-taken", "已受理").await;
    let ticket = path(&c).await;
    let number = text(&c, "#ticket-number").await;
    assert!(number.starts_with("RX") && number.len() == 15, "{number}");
    assert_eq!(text(&c, "#ticket-status").await, "已受理");
    // The caller's markup is text: no image was made of it.
    assert_eq!(text(&c, "#ticket-content").await, CONTENT);
    assert_eq!(count(&c, "#ticket-content img").await, 0);
    // Masked caller.
    assert!(c.source().await.unwrap().contains("138****8000"));

    // Transfer to the market regulator, the health bureau co-handling, in 3 working days.
    choose(&c, "department", "SCJG").await;
    click_css(
        &c,
        "#transfer-form input[name=\"co_department\"][value=\"WJJ\"]",
    )
    .await;
    fill(&c, "workdays", "3").await;
    fill(&c, "transfer-text", "请核查价格").await;
    click(&c, "transfer-submit").await;
    wait_attr(&c, "#ticket-status", "data-status", "transferred").await;
    wait_contains(&c, "#ticket-departments", "区市场监督管理局 (主办)").await;
    wait_contains(&c, "#ticket-departments", "区卫生健康局 (协办)").await;
    screenshot(&c, "hotline-transferred.png").await;
    sign_out(&c).await;

    // The regulator replies.
    sign_in(&c, &app, "department").await;
    c.goto(&app.url(&ticket)).await.unwrap();
    assert_eq!(
        count(&c, "#transfer-form").await,
        0,
        "a department does not transfer"
    );
    fill(&c, "reply-text", "已立案调查，责令药房按原价销售").await;
    click(&c, "reply-submit").await;
    wait_attr(&c, "#ticket-status", "data-status", "replied").await;
    sign_out(&c).await;

    // The operator reviews, calls back and closes.
    sign_in(&c, &app, "hotline").await;
    c.goto(&app.url(&ticket)).await.unwrap();
    click(&c, "accept-submit").await;
    wait_attr(&c, "#ticket-status", "data-status", "accepted").await;
    choose(&c, "satisfaction", "satisfied").await;
    fill(&c, "follow-text", "来电人表示满意").await;
    click(&c, "follow-submit").await;
    wait_attr(&c, "#ticket-status", "data-status", "followed_up").await;
    click(&c, "close-submit").await;
    wait_attr(&c, "#ticket-status", "data-status", "closed").await;
    assert_eq!(text(&c, "#ticket-status").await, "已办结");
    assert_eq!(
        count(&c, "#reply-form").await,
        0,
        "nothing more to reply to"
    );
    let timeline = texts(&c, "#timeline li").await;
    let steps: Vec<&str> = timeline
        .iter()
        .map(|t| t.split_whitespace().nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        steps,
        ["受理", "转办", "部门答复", "审核通过", "回访", "办结"],
        "{timeline:?}"
    );
    assert!(timeline[2].contains("已立案调查"));

    // The search finds the ticket by a two-character word, marked.
    c.goto(&app.url("/hotline")).await.unwrap();
    fill(&c, "q", "口罩").await;
    click(&c, "search-submit").await;
    wait_contains(&c, "#search-total", "1").await;
    assert_eq!(texts(&c, "#search-hits mark").await, ["口罩"]);
    assert_eq!(count(&c, "#search-hits img").await, 0);
    assert_eq!(texts(&c, "#search-hits a").await, [number]);
    screenshot(&c, "hotline-search.png").await;
    c.close().await.unwrap();
}

//! The `nexus` command line, run in-process on a test app's settings.

use http::StatusCode;
use ops::config::Config;
use serde_json::json;
use tests::{TestApp, shape_tests};

shape_tests!(
    tenant_create_and_user_commands_work_end_to_end,
    bad_cli_input_fails_with_a_clear_error_and_changes_nothing,
    operator_commands_make_list_and_revoke_operators,
);

async fn nexus(app: &TestApp, args: &[&str]) -> anyhow::Result<()> {
    app.cli(args).await
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.post(
        "/pos/api/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await
    .status
}

async fn tenant_create_and_user_commands_work_end_to_end(app: TestApp) {
    nexus(
        &app,
        &[
            "tenant",
            "create",
            "--slug",
            "acme",
            "--name",
            "Refaccionaria Acme",
            "--rfc",
            "ACM010101ABC",
            "--owner-email",
            "owner@acme.mx",
            "--owner-password",
            "acme owner password",
        ],
    )
    .await
    .unwrap();
    nexus(&app, &["tenant", "list"]).await.unwrap();
    assert_eq!(
        login_status(&app, "owner@acme.mx", "acme owner password").await,
        StatusCode::OK
    );

    nexus(
        &app,
        &[
            "user",
            "create",
            "--email",
            "caja@acme.mx",
            "--password",
            "caja password 1",
            "--name",
            "Caja",
            "--tenant",
            "acme",
            "--role",
            "cashier",
        ],
    )
    .await
    .unwrap();
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": "caja@acme.mx", "password": "caja password 1"}),
        )
        .await;
    assert_eq!(r.json["user"]["role"], "cashier");

    nexus(
        &app,
        &[
            "user",
            "set-password",
            "--email",
            "caja@acme.mx",
            "--password",
            "caja password 2",
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        login_status(&app, "caja@acme.mx", "caja password 1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_status(&app, "caja@acme.mx", "caja password 2").await,
        StatusCode::OK
    );

    nexus(&app, &["user", "disable", "--email", "caja@acme.mx"])
        .await
        .unwrap();
    assert_eq!(
        login_status(&app, "caja@acme.mx", "caja password 2").await,
        StatusCode::FORBIDDEN
    );
    nexus(&app, &["user", "enable", "--email", "caja@acme.mx"])
        .await
        .unwrap();
    assert_eq!(
        login_status(&app, "caja@acme.mx", "caja password 2").await,
        StatusCode::OK
    );

    nexus(
        &app,
        &[
            "user",
            "create",
            "--email",
            "mgr@acme.mx",
            "--password",
            "manager password",
            "--name",
            "Gerente",
        ],
    )
    .await
    .unwrap();
    nexus(
        &app,
        &[
            "user",
            "grant",
            "--email",
            "mgr@acme.mx",
            "--tenant",
            "acme",
            "--role",
            "manager",
        ],
    )
    .await
    .unwrap();
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": "mgr@acme.mx", "password": "manager password"}),
        )
        .await;
    assert_eq!(r.json["user"]["role"], "manager");
    nexus(&app, &["migrate"]).await.unwrap();
}

async fn bad_cli_input_fails_with_a_clear_error_and_changes_nothing(app: TestApp) {
    let e = nexus(
        &app,
        &[
            "tenant",
            "create",
            "--slug",
            "acme",
            "--name",
            "Acme",
            "--rfc",
            "bad",
            "--owner-email",
            "o@acme.mx",
            "--owner-password",
            "long enough pw",
        ],
    )
    .await
    .unwrap_err();
    assert!(format!("{e:#}").starts_with("rfc: "), "{e:#}");
    let e = nexus(
        &app,
        &[
            "user",
            "create",
            "--email",
            "x@acme.mx",
            "--password",
            "long enough pw",
            "--name",
            "X",
            "--tenant",
            "nope",
            "--role",
            "cashier",
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(format!("{e:#}"), "tenant not found");
    let e = nexus(
        &app,
        &[
            "user",
            "grant",
            "--email",
            "x@acme.mx",
            "--tenant",
            "nope",
            "--role",
            "root",
        ],
    )
    .await
    .unwrap_err();
    assert!(format!("{e:#}").starts_with("role: "), "{e:#}");
    let e = nexus(&app, &["user", "disable", "--email", "ghost@acme.mx"])
        .await
        .unwrap_err();
    assert_eq!(format!("{e:#}"), "user not found");
    assert!(
        nexus(&app, &["user", "create", "--email", "x@acme.mx"])
            .await
            .is_err(),
        "missing arguments are refused by the parser"
    );
    assert!(
        entities::org::tenants::list(&app.app.platform)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        entities::org::accounts::find_user_by_email(&app.app.platform, "x@acme.mx")
            .await
            .unwrap()
            .is_none()
    );
}

shape_tests!(the_jobs_commands_answer, the_job_path_bench_runs_every_job);

async fn the_jobs_commands_answer(app: TestApp) {
    app.tenant("acme").await;
    nexus(&app, &["jobs", "stats"]).await.unwrap();
    nexus(&app, &["jobs", "failed"]).await.unwrap();
    let e = nexus(&app, &["jobs", "retry", "garbage"])
        .await
        .unwrap_err();
    assert!(format!("{e:#}").contains("is not a run key"), "{e:#}");
    let e = nexus(&app, &["jobs", "failed", "--tenant", "nope"])
        .await
        .unwrap_err();
    assert_eq!(format!("{e:#}"), "tenant not found");
}

async fn operator_commands_make_list_and_revoke_operators(app: TestApp) {
    let email = "Ops@Nexus.MX";
    let e = nexus(&app, &["operator", "create", "--email", email])
        .await
        .unwrap_err();
    assert!(format!("{e:#}").contains("--password"), "{e:#}");
    nexus(
        &app,
        &[
            "operator",
            "create",
            "--email",
            email,
            "--password",
            "una clave larga",
        ],
    )
    .await
    .unwrap();
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": "ops@nexus.mx", "password": "una clave larga"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["user"]["role"], "operator");
    let ops = entities::org::accounts::operators(&app.app.platform)
        .await
        .unwrap();
    assert_eq!(ops.len(), 1);
    nexus(&app, &["operator", "list"]).await.unwrap();

    // An existing business user can be made an operator too, and keeps the membership.
    let t = app.tenant("acme").await;
    nexus(&app, &["operator", "create", "--email", &t.owner_email])
        .await
        .unwrap();
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": t.owner_email, "password": tests::PASSWORD, "scope": "ops"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        login_status(&app, &t.owner_email, tests::PASSWORD).await,
        StatusCode::OK
    );

    nexus(&app, &["operator", "revoke", "--email", "ops@nexus.mx"])
        .await
        .unwrap();
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": "ops@nexus.mx", "password": "una clave larga"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let e = nexus(&app, &["operator", "revoke", "--email", "nobody@nexus.mx"])
        .await
        .unwrap_err();
    assert!(format!("{e:#}").contains("no user"), "{e:#}");
}

async fn the_job_path_bench_runs_every_job(app: TestApp) {
    let cfg = Config::from_lookup(|k| app.vars.get(k).cloned()).unwrap();
    let r = ops::pipeline_bench::run(cfg, 300).await.unwrap();
    assert_eq!(r.jobs, 300);
    assert_eq!(r.backend, app.queues.name());
    assert!(r.commit_per_s > 0.0 && r.end_to_end_per_s > 0.0, "{r:?}");
    nexus(&app, &["bench", "jobs", "--jobs", "50"])
        .await
        .unwrap();
}

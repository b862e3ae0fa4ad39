// The producer throughput cases of the suite alone (kafkax, kafkajs, @platformatic/kafka, the Java
// client, kcat): `node --import tsx bench/produce.ts [--quick] [--reps N] [--clients ...] [--cases ...]`
// is `npm run bench -- --groups produce --no-codec ...`. See bench/README.md.

process.argv.splice(2, 0, '--groups', 'produce', '--no-codec')
await import('./run.ts')

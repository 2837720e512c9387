/**
 * The words of the human-readable reports, in English and Japanese. Every
 * label, heading, verdict, severity and check title the report itself
 * writes is here in both languages. What the device said and what the
 * probes measured (rationales, findings, evidence) are records, kept in the
 * language they were written in and marked as such.
 */
import { StarbenchError } from '../harness/errors';
import type { Verdict } from '../harness/verdict';

export const LANGS = ['en', 'ja'] as const;
export type Lang = (typeof LANGS)[number];

export interface Messages {
  title: string;
  cover: string;
  device: string;
  model: string;
  firmwareDeclared: string;
  firmwareObserved: string;
  notRead: string;
  scheme: string;
  schemeVersion: string;
  date: string;
  duration: string;
  tool: string;
  run: string;
  target: string;
  overall: string;
  incomplete: (why: string) => string;
  resumed: (when: string, repeated: readonly string[]) => string;
  rejudged: (when: string) => string;
  summary: string;
  requirement: string;
  id: string;
  assessedBy: string;
  confidence: string;
  verdict: string;
  level: string;
  checks: string;
  check: string;
  rationale: string;
  findings: string;
  fix: string;
  evidence: string;
  review: string;
  reviewNone: string;
  whatToLookFor: string;
  scope: string;
  destinations: string;
  destinationsNote: string;
  destinationCols: [name: string, address: string, protocol: string, tls: string, personalData: string, inClear: string, declared: string];
  yes: string;
  no: string;
  scopeText: (target: string, serial: string | undefined, limit: number) => string;
  notAttempted: string;
  harnessErrors: string;
  label: string;
  labelModel: string;
  labelFirmware: string;
  labelDate: string;
  labelScheme: string;
  labelDigest: string;
  labelNote: string;
  recordNote: string;
  counts: (n: number, v: string) => string;
  verdicts: Record<Verdict, string>;
  severities: Record<'high' | 'medium' | 'low' | 'info', string>;
  assessedByValues: Record<'device' | 'document' | 'both', string>;
  confidenceValues: Record<'confirmed' | 'secondary' | 'tentative', string>;
  levels: Record<'mandatory' | 'recommended', string>;
  supplementary: string;
  declaration: string;
  incompleteRun: string;
  reviewAnswer: string;
  deviceTest: string;
  trees: string;
  treesNote: string;
  treeCols: readonly string[];
  notifiedBody: string;
  notNecessary: string;
}

const en: Messages = {
  title: 'Conformity assessment report',
  cover: 'Assessment',
  device: 'Device',
  model: 'Model',
  firmwareDeclared: 'Firmware (declared)',
  firmwareObserved: 'Firmware (observed)',
  notRead: 'not read',
  scheme: 'Scheme',
  schemeVersion: 'Catalog version',
  date: 'Date',
  duration: 'Duration',
  tool: 'Tool',
  run: 'Run',
  target: 'Target',
  overall: 'Overall verdict',
  incomplete: (why) => `Incomplete run (${why}): probes that did not finish are reported as not tested or inconclusive.`,
  rejudged: (when) => `Judged again from the saved observations on ${when}, without contacting the device.`,
  resumed: (when, repeated) =>
    `Interrupted and resumed on ${when}: finished probes were kept${repeated.length ? `; begun before the interruption and run again: ${repeated.join(', ')}` : ''}.`,
  summary: 'Requirements',
  requirement: 'Requirement',
  id: 'Id',
  assessedBy: 'Assessed by',
  confidence: 'Confidence',
  verdict: 'Verdict',
  level: 'Level',
  checks: 'Checks',
  check: 'Check',
  rationale: 'Rationale',
  findings: 'Findings',
  fix: 'What to fix',
  evidence: 'Evidence',
  review: 'Not tested — needs review',
  reviewNone: 'Every requirement was assessed.',
  whatToLookFor: 'What to look for',
  scope: 'Scope of the run',
  destinations: 'Where the device connects',
  destinationsNote: 'Connections the device itself opened during the traffic watch (the capture is in the evidence).',
  destinationCols: ['Name', 'Address', 'Protocol', 'TLS offered', 'Personal data', 'In clear', 'Declared'],
  yes: 'yes',
  no: 'no',
  scopeText: (target, serial, limit) =>
    `Target ${target}${serial ? `, serial port ${serial}` : ''}; at most ${limit} connections at once. starbench contacts nothing else.`,
  notAttempted: 'Not attempted, and why',
  harnessErrors: 'Harness errors',
  label: 'Label data',
  labelModel: 'Model',
  labelFirmware: 'Evaluated firmware',
  labelDate: 'Evaluation date',
  labelScheme: 'Scheme and level',
  labelDigest: 'Report digest (SHA-256 of report.json)',
  labelNote: 'The QR code holds this label data as JSON.',
  recordNote: "Rationales and findings are the probes' own records, in English.",
  counts: (n, v) => `${n} ${v}`,
  verdicts: { pass: 'pass', fail: 'fail', inconclusive: 'inconclusive', error: 'error', 'not-applicable': 'not applicable', 'not-tested': 'not tested' },
  severities: { high: 'high', medium: 'medium', low: 'low', info: 'info' },
  assessedByValues: { device: 'device test', document: 'document review', both: 'device and documents' },
  confidenceValues: { confirmed: 'confirmed', secondary: 'secondary source', tentative: 'tentative' },
  levels: { mandatory: 'mandatory', recommended: 'recommended' },
  supplementary: 'supplementary (not a requirement id of the scheme)',
  declaration: 'declaration',
  incompleteRun: 'incomplete: device-test requirements not tested',
  reviewAnswer: 'document review',
  deviceTest: 'device test',
  trees: 'Decision-tree assessments (per asset, mechanism and interface)',
  treesNote:
    'Conceptual: the tree path and its justifications. Functional completeness: what the device showed that the documentation did not list. Functional sufficiency: the mechanism tested by the checks. Each target is the worst of the three.',
  treeCols: ['Requirement', 'Target', 'Decision-tree path', 'Conceptual', 'Completeness', 'Sufficiency', 'Verdict', 'Justification'],
  notifiedBody: 'notified body needed',
  notNecessary: 'not necessary',
};

const ja: Messages = {
  title: '適合性評価報告書',
  cover: '評価の概要',
  device: '機器',
  model: '型番',
  firmwareDeclared: 'ファームウェア（申告）',
  firmwareObserved: 'ファームウェア（実測）',
  notRead: '読み取れず',
  scheme: '制度',
  schemeVersion: 'カタログ版',
  date: '評価日',
  duration: '所要時間',
  tool: 'ツール',
  run: '実行ID',
  target: '対象アドレス',
  overall: '総合判定',
  incomplete: (why) => `未完了の実行（${why}）：終わらなかったプローブは「未試験」または「判定不能」として報告しています。`,
  rejudged: (when) => `${when} に保存済みの観測結果から再判定しました（機器には接続していません）。`,
  resumed: (when, repeated) =>
    `中断後、${when} に再開しました。完了済みのプローブは結果を引き継いでいます${repeated.length ? `。中断時に実行中で、再実行したプローブ：${repeated.join('、')}` : ''}。`,
  summary: '要求事項',
  requirement: '要求事項',
  id: 'ID',
  assessedBy: '評価方法',
  confidence: '確度',
  verdict: '判定',
  level: '区分',
  checks: 'チェック',
  check: 'チェック',
  rationale: '判定理由',
  findings: '検出事項',
  fix: '修正方法',
  evidence: '証跡',
  review: '未試験 — 確認が必要な項目',
  reviewNone: 'すべての要求事項を評価しました。',
  whatToLookFor: '確認すべき点',
  scope: '実行の範囲',
  destinations: '機器の接続先',
  destinationsNote: '通信観測中に機器自身が開いた接続（キャプチャは証跡にあります）。',
  destinationCols: ['名前', 'アドレス', 'プロトコル', '提示した TLS', '個人データ', '平文で送信', '申告済み'],
  yes: 'はい',
  no: 'いいえ',
  scopeText: (target, serial, limit) =>
    `対象 ${target}${serial ? `、シリアルポート ${serial}` : ''}。同時接続は最大 ${limit}。これ以外には一切接続していません。`,
  notAttempted: '実施しなかった項目とその理由',
  harnessErrors: 'ハーネスのエラー',
  label: 'ラベル情報',
  labelModel: '型番',
  labelFirmware: '評価したファームウェア',
  labelDate: '評価日',
  labelScheme: '制度とレベル',
  labelDigest: '報告書ダイジェスト（report.json の SHA-256）',
  labelNote: 'QRコードにはこのラベル情報がJSONで格納されています。',
  recordNote: '判定理由と検出事項はプローブが記録した原文（英語）です。',
  counts: (n, v) => `${v} ${n}件`,
  verdicts: { pass: '適合', fail: '不適合', inconclusive: '判定不能', error: 'エラー', 'not-applicable': '対象外', 'not-tested': '未試験' },
  severities: { high: '高', medium: '中', low: '低', info: '情報' },
  assessedByValues: { device: '実機試験', document: '文書確認', both: '実機試験と文書確認' },
  confidenceValues: { confirmed: '確認済み', secondary: '二次情報', tentative: '暫定' },
  levels: { mandatory: '必須', recommended: '推奨' },
  supplementary: '補足（制度の要求事項IDではありません）',
  declaration: '宣言',
  incompleteRun: '不完全：未試験の機器試験要求事項',
  reviewAnswer: '文書確認',
  deviceTest: '機器試験',
  trees: '判定木による評価（資産・仕組み・インタフェースごと）',
  treesNote:
    '概念評価は判定木の経路と正当化、機能完全性は文書にない機器上の項目、機能十分性はチェックによる仕組みの試験。対象ごとの判定は三つのうち最悪のもの。',
  treeCols: ['要求事項', '対象', '判定木の経路', '概念', '機能完全性', '機能十分性', '判定', '正当化'],
  notifiedBody: '適合性評価機関（ノーティファイドボディ）が必要',
  notNecessary: '不要',
};

export const MESSAGES: Record<Lang, Messages> = { en, ja };

/** Check titles and fixes in Japanese; English comes from the check itself. */
export const CHECK_TEXT_JA: Record<string, { title: string; fix: string }> = {
  'exposure.undeclared-services': {
    title: '申告されていないサービスが公開されていない',
    fix: '使わないサービスは無効にし、残すサービスはすべて申告してください。',
  },
  'auth.default-credentials': {
    title: '既知の初期パスワード・弱いパスワードが使えない',
    fix: '機器ごとに固有の初期パスワードにするか、初回利用時に利用者に設定させてください。',
  },
  'auth.unauthenticated-access': {
    title: '認証なしでシェル・管理機能・設定・トピックに届かない',
    fix: 'すべての管理機能・設定・ブローカーのトピックに認証を必須にしてください。',
  },
  'auth.brute-force': { title: '総当たり攻撃が困難になっている', fix: 'ロックアウト、遅延の増加、または試行回数の制限を導入してください。' },
  'comms.tls': {
    title: 'TLS が最新のバージョン・暗号・証明書を使っている',
    fix: 'TLS 1.2 以上、AEAD 暗号スイート、2048 ビット以上の鍵と SHA-256 署名の有効な証明書にしてください。',
  },
  'crypto.unique-device-keys': {
    title: '事前導入鍵が他の個体と共有されていない',
    fix: 'ホスト鍵・TLS 鍵は個体ごとに（初回起動時または管理された工場工程で）生成し、ファームウェアイメージに同じ鍵を埋め込まないでください。',
  },
  'resilience.network-load': {
    title: '接続と不正な要求の集中の後もサービスが復帰する',
    fix: 'サービスごとの同時接続数を制限し、不正な要求は早期に破棄し、停止したサービスはウォッチドッグで再起動して通常の状態に戻してください。',
  },
  'comms.ssh': {
    title: 'SSH が安全なアルゴリズムと十分な長さのホスト鍵を使っている',
    fix: 'SHA-1 や CBC を使うアルゴリズムを無効にし、Ed25519 または 3072 ビット以上の RSA ホスト鍵にしてください。',
  },
  'comms.plaintext': {
    title: '認証情報や個人データが平文で流れない',
    fix: 'telnet・平文 HTTP・TLS なしの MQTT を無効にし、暗号化された通信路に置き換えてください。',
  },
  'update.integrity': {
    title: '改ざんされた・署名のないイメージを受け付けない',
    fix: 'インストール前にイメージ全体の署名を機器が保持する鍵で検証し、失敗したイメージは拒否してください。',
  },
  'update.rollback': {
    title: '古い正規イメージへのロールバックを受け付けない',
    fix: 'バージョン（またはセキュリティバージョンカウンタ）を単調増加にし、署名が正しくても古いイメージは拒否してください。',
  },
  'privacy.personal-data-exposure': {
    title: '認証なしで個人データが読めない',
    fix: '個人データは認証後に、暗号化された通信路でのみ提供してください。バナー・探索応答・状態ページ・起動ログに含めないでください。',
  },
  'privacy.disclosure': {
    title: '扱う個人データが利用者に示されている',
    fix: 'プライバシー通知と機器ファイル（personalData.declared）に、扱う個人データの種類をすべて記載してください。',
  },
  'privacy.data-deletion': {
    title: '初期化で利用者データが消える',
    fix: '初期化で設定だけでなく、プロファイル・ブローカーの保持メッセージ・ログなどすべての利用者データを消去してください。',
  },
  'debug.serial-console': {
    title: 'シリアルコンソールにログインが必要で、秘密情報を出力しない',
    fix: 'コンソールにログインを必須にし（または製品では無効化）、ブートローダーを中断できないようにし、起動時に鍵やパスワードを出力しないでください。',
  },
  'device.model-identification': {
    title: '機器が利用者に型番（とファームウェアのバージョン）を示している',
    fix: '型番とファームウェアのバージョンを、利用者が見る場所（Web 画面やアプリ）と、本体・パッケージのラベルに表示してください。',
  },
  'auth.credential-change': {
    title: '認証値を変更でき、変更後は旧い値が拒否され新しい値が受け付けられる',
    fix: 'すべての認証値を利用者が簡単に変更できるようにし、変更はそのアカウントを使うすべてのインタフェース（Web、SSH、telnet、アプリ API）に同時に反映させてください。',
  },
  'resilience.restart-persistence': {
    title: '再起動後も利用者が設定した認証情報と適用済みのファームウェアが保持される',
    fix: '利用者の設定（特に認証情報）と適用済みのファームウェアを不揮発領域に原子的に書き込み、電源断やネットワーク断で元に戻らないようにしてください。',
  },
  'update.capability': {
    title: '申告された更新手段で正規の新しいイメージをインストールできる',
    fix: '申告した更新手段（Web 画面、アプリ、OTA）で新しいバージョンの署名付きイメージをインストールでき、その後に新しいバージョンを報告するようにしてください。',
  },
  'exposure.known-vulnerabilities': {
    title: '既知の脆弱性があるバージョンのサービスが動いていない',
    fix: '該当するコンポーネントを修正済みのリリースに更新し（バナーでバージョンを公開しないことも）、SBOM を脆弱性データベースと継続的に照合してください。',
  },
  'comms.outbound-plaintext': {
    title: '機器が認証情報・トークン・個人データを平文で送信しない',
    fix: 'クラウドやサービスとの通信はすべて証明書検証付きの TLS 1.2 以上で行い、ファームウェアは HTTPS で取得して署名を検証してからインストールしてください。',
  },
  'comms.outbound-tls': {
    title: '機器の TLS クライアントが TLS 1.2 以上と強い暗号スイートのみを提示する',
    fix: '機器の TLS クライアントを TLS 1.2/1.3 のみ、AEAD の暗号スイートのみ（RC4・3DES・NULL・EXPORT・匿名・CBC-SHA1 を除く）に設定してください。',
  },
  'comms.certificate-validation': {
    title: '信頼できないサーバー証明書を拒否する（中間者攻撃試験）',
    fix: '機器が開くすべての TLS 接続で、ベンダーのトラストアンカーに対する証明書チェーンとホスト名を検証してください。検証を無効にして出荷しないでください。',
  },
  'privacy.destinations': {
    title: '製造者が申告した通信先にのみ接続する',
    fix: '機器が接続するすべての通信先（クラウド、NTP、DNS、分析サービス）と、それぞれが受け取る個人データを申告し、不要な通信先への接続をやめてください。',
  },
};

export function parseLang(value: string | undefined): Lang {
  if (value === undefined) return 'en';
  if ((LANGS as readonly string[]).includes(value)) return value as Lang;
  throw new StarbenchError('USAGE', `--lang takes ${LANGS.join(' or ')}, got "${value}"`);
}

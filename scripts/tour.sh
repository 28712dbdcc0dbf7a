#!/usr/bin/env bash
# A short tour of the mamori CLI against the demo store (run by `make run`).
set -uo pipefail
M="${MAMORI_BIN:-.venv/bin/mamori}"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; echo "  (exit $?)"; }

echo "== mamori ツアー / tour =="
echo "デモ用ログイン（--as で指定） / demo logins (pass with --as):"
echo "  admin（管理者） hoshino（個人情報保護管理者） sato, suzuki（営業） nakamura（新任の営業・研修未了） takahashi（コールセンター） ito（分析担当）"
step $M purposes list
ID=$($M --as sato customers list -p contract --limit 1 --json | .venv/bin/python -c 'import json,sys; d=json.load(sys.stdin)["items"]; print(d[0]["id"] if d else "")')
step $M --as sato customers list -p contract --limit 5
step $M --as sato customers show "$ID" -p contract
echo; echo "-- 同じ顧客を、別の利用目的で（範囲外の項目はマスク、未通知なら拒否） / same customer, another purpose --"
step $M --as sato customers show "$ID" -p marketing-email
echo; echo "-- 他の営業担当の顧客は見えない / another rep's customer is out of scope --"
step $M --as suzuki customers show "$ID" -p contract
echo; echo "-- 分析担当は個票を見られない / analysts never see rows --"
step $M --as ito customers list -p analytics --limit 3
echo; echo "-- 本人からの請求（期限順） / requests from the person, by due date --"
step $M --as hoshino rights list
echo; echo "-- 第三者提供の提供先と委託先 / counterparties and outsourcee contracts --"
step $M --as hoshino provision counterparties list
step $M --as hoshino provision records list
step $M --as hoshino processors contracts list
echo; echo "-- 利用目的の新しい版の通知が必要な本人 / who still needs the notice of a purpose's new version --"
step $M --as hoshino customers pending-notice support
echo; echo "-- 保管場所と処理活動の記録 / storage locations and the record of processing activities --"
step $M --as hoshino inventory locations list
step $M --as hoshino inventory countries
echo; echo "-- 研修・誓約（未受講の新任は個人データを扱えない） / training and pledges: the untrained new hire is refused --"
step $M --as hoshino staff training overdue
step $M --as nakamura customers list -p contract
echo; echo "-- 保存期間：廃棄計画（実行は retention run） / retention: what a run would dispose of, and why --"
step $M --as hoshino retention plan
echo; echo "-- 正確性：データ品質と確認が必要な顧客 / accuracy: data quality and records due for confirmation --"
step $M --as hoshino quality report --worst 5
step $M --as sato customers unconfirmed --limit 5
echo; echo "-- 退職者の担当顧客の引継ぎ計画 / the departing rep's handover plan --"
step $M --as hoshino handover plan suzuki
echo; echo "-- 漏えい等事案：期限の近い順（速報の期限超過は赤）、報告対象か（R-26-1）、範囲 / incidents: the board, triggers, scope --"
step $M --as hoshino incidents list
step $M --as hoshino incidents classify INC-0002
step $M --as hoshino incidents scopes INC-0001
step $M --as hoshino jobs list
step $M --as hoshino audit tail -n 8
step $M audit verify
echo; echo "-- 監査ログの署名付きチェックポイント（外部の証人へ送る行） / a signed checkpoint to send to a witness --"
step $M audit checkpoint
echo; echo "-- バックアップ（鍵保管庫は含めない） / a backup without the keystore --"
step $M --as admin backup "$(mktemp -d)/mamori-backup"
echo
echo "次の一歩 / next: $M --help ・ $M rights --help ・ $M provide --help ・ $M processors --help ・ $M deid --help ・ $M incidents --help ・ $M inventory ropa --format md"

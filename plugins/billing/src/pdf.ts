import PDFDocument from 'pdfkit';
import type { Invoice, InvoiceLine } from './entities.js';

const money = (cents: number, currency: string) => new Intl.NumberFormat('pt-BR', { style: 'currency', currency }).format(cents / 100);
const day = (d: Date | string, zone: string) => new Intl.DateTimeFormat('pt-BR', { timeZone: zone, day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(d));

/** An invoice as a one-page PDF (pdfkit, its built-in Helvetica: nothing to download). */
export function invoicePdf(inv: Invoice, lines: InvoiceLine[], zone: string): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Fatura nº ${inv.number} · ${inv.period}`, Author: 'PlugChat' } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  doc.fontSize(20).text(`Fatura nº ${inv.number}`, { continued: false });
  doc.moveDown(0.3).fontSize(11).fillColor('#555').text(`PlugChat · uso de ${inv.period}`);
  doc.text(`Emitida em ${day(inv.issuedAt, zone)} · vencimento ${day(inv.dueAt, zone)} · situação: ${{ open: 'em aberto', paid: 'paga', overdue: 'vencida', void: 'cancelada' }[inv.status]}`);
  doc.moveDown(1).fillColor('#000');
  const cols = [50, 300, 380, 470];
  const row = (cells: string[], bold = false) => {
    const y = doc.y;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(10);
    cells.forEach((c, i) => doc.text(c, cols[i]!, y, { width: (cols[i + 1] ?? 545) - cols[i]! - 8, align: i === 0 ? 'left' : 'right' }));
    doc.moveDown(0.4);
  };
  row(['Instância', 'Dias', 'Preço mensal', 'Valor'], true);
  for (const l of lines) row([l.description, `${l.days}/${l.daysInMonth}`, money(l.unitCents, inv.currency), money(l.amountCents, inv.currency)]);
  doc.moveDown(0.5);
  row(['Total', '', '', money(inv.totalCents, inv.currency)], true);
  if (inv.payUrl) doc.moveDown(1).font('Helvetica').fillColor('#0f7b5f').text('Pagar com boleto ou Pix', 50, doc.y, { link: inv.payUrl, underline: true });
  doc.end();
  return done;
}

import { createI18n } from 'vue-i18n';

const en = {
  app: { signOut: 'Sign out', language: 'Language' },
  nav: { instances: 'Instances', plugins: 'Plugins', settings: 'Settings', users: 'Users', apiKeys: 'API keys', sandbox: 'Sandbox phones' },
  auth: { signIn: 'Sign in', email: 'Email', password: 'Password', setupTitle: 'Set up PlugChat', account: 'Company name', name: 'Your name', create: 'Create the owner' },
  instances: {
    title: 'Instances', add: 'Add', name: 'Name', state: 'State', phone: 'Phone', open: 'Open', none: 'No instances yet.',
    connected: 'Connected', qr: 'Scan the QR code', connecting: 'Connecting', disconnected: 'Disconnected', logged_out: 'Logged out', expired: 'QR expired',
    connect: 'Connect', disconnect: 'Disconnect', restart: 'Restart', edit: 'Edit', delete: 'Delete', rename: 'Rename', save: 'Save',
    id: 'Instance ID', token: 'Token', copy: 'Copy', copied: 'Copied', rotate: 'Rotate token', scanHelp: 'Open WhatsApp on the phone → Linked devices → Link a device, and scan:',
    pairingCode: 'Or connect with a phone number', getCode: 'Get code', send: 'Send a test message', to: 'To (number)', message: 'Message', sendButton: 'Send',
    messages: 'Recent messages', queue: 'Queue', empty: 'Nothing here.', confirmDelete: 'Delete this instance and its messages?',
  },
  plugins: { title: 'Plugins', state: 'State', reason: 'Reason' },
  settings: { title: 'Settings', save: 'Save', saved: 'Saved' },
  users: { title: 'Users', add: 'Add user', role: 'Role', disabled: 'Disabled' },
  keys: { title: 'API keys', add: 'Create key', once: 'Copy it now: it is shown only once.', revoke: 'Revoke', revoked: 'Revoked' },
  webhooks: {
    title: 'Webhooks', url: 'URL', save: 'Save', test: 'Test fire', log: 'Delivery log', redeliver: 'Redeliver', status: 'Status', attempts: 'Attempts', event: 'Event', all: 'All',
    received: 'On receive', delivery: 'On send (delivery)', 'message-status': 'Message status', connected: 'On connect', disconnected: 'On disconnect', 'chat-presence': 'Chat presence',
  },
  sandbox: { title: 'Sandbox phones', create: 'Create phone', phone: 'Number', name: 'Name', scan: 'Scan with a sandbox phone', scanned: 'Scanned', chat: 'Chat as the customer', to: 'Business number', send: 'Send', markRead: 'Mark read', online: 'Online' },
  errors: { boundary: 'This panel failed to load.' },
};

const ptBR: typeof en = {
  app: { signOut: 'Sair', language: 'Idioma' },
  nav: { instances: 'Instâncias', plugins: 'Plugins', settings: 'Configurações', users: 'Usuários', apiKeys: 'Chaves de API', sandbox: 'Telefones sandbox' },
  auth: { signIn: 'Entrar', email: 'E-mail', password: 'Senha', setupTitle: 'Configurar o PlugChat', account: 'Nome da empresa', name: 'Seu nome', create: 'Criar o proprietário' },
  instances: {
    title: 'Instâncias', add: 'Adicionar', name: 'Nome', state: 'Estado', phone: 'Telefone', open: 'Abrir', none: 'Nenhuma instância ainda.',
    connected: 'Conectado', qr: 'Escaneie o QR code', connecting: 'Conectando', disconnected: 'Desconectado', logged_out: 'Deslogado', expired: 'QR expirado',
    connect: 'Conectar', disconnect: 'Desconectar', restart: 'Reiniciar', edit: 'Editar', delete: 'Excluir', rename: 'Renomear', save: 'Salvar',
    id: 'ID da instância', token: 'Token', copy: 'Copiar', copied: 'Copiado', rotate: 'Gerar novo token', scanHelp: 'Abra o WhatsApp no celular → Aparelhos conectados → Conectar um aparelho, e escaneie:',
    pairingCode: 'Ou conecte com o número de telefone', getCode: 'Gerar código', send: 'Enviar mensagem de teste', to: 'Para (número)', message: 'Mensagem', sendButton: 'Enviar',
    messages: 'Mensagens recentes', queue: 'Fila', empty: 'Nada por aqui.', confirmDelete: 'Excluir esta instância e as mensagens dela?',
  },
  plugins: { title: 'Plugins', state: 'Estado', reason: 'Motivo' },
  settings: { title: 'Configurações', save: 'Salvar', saved: 'Salvo' },
  users: { title: 'Usuários', add: 'Adicionar usuário', role: 'Papel', disabled: 'Desativado' },
  keys: { title: 'Chaves de API', add: 'Criar chave', once: 'Copie agora: ela só é mostrada uma vez.', revoke: 'Revogar', revoked: 'Revogada' },
  webhooks: {
    title: 'Webhooks', url: 'URL', save: 'Salvar', test: 'Disparar teste', log: 'Log de entregas', redeliver: 'Reenviar', status: 'Status', attempts: 'Tentativas', event: 'Evento', all: 'Todos',
    received: 'Ao receber', delivery: 'Ao enviar (entrega)', 'message-status': 'Status da mensagem', connected: 'Ao conectar', disconnected: 'Ao desconectar', 'chat-presence': 'Presença do chat',
  },
  sandbox: { title: 'Telefones sandbox', create: 'Criar telefone', phone: 'Número', name: 'Nome', scan: 'Escanear com um telefone sandbox', scanned: 'Escaneado', chat: 'Conversar como o cliente', to: 'Número da empresa', send: 'Enviar', markRead: 'Marcar como lida', online: 'Online' },
  errors: { boundary: 'Este painel não carregou.' },
};

const saved = localStorage.getItem('plugchat.locale');
const browser = navigator.language?.toLowerCase().startsWith('pt') ? 'pt-BR' : 'en';

export const i18n = createI18n({ legacy: false, locale: saved ?? browser, fallbackLocale: 'en', messages: { en, 'pt-BR': ptBR } });

export function setLocale(locale: 'en' | 'pt-BR') {
  i18n.global.locale.value = locale;
  localStorage.setItem('plugchat.locale', locale);
  document.documentElement.lang = locale;
}

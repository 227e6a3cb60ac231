// The surveys' page and the panel in each attendance, composed into the web app at build time and loaded lazily.
export default {
  pages: [{ id: 'surveys.page', path: '/surveys', titleKey: 'nav.surveys', order: 7, minRole: 'supervisor' as const, component: () => import('./Surveys.vue') }],
  panels: [{ id: 'surveys.attendancePanel', slot: 'helpdesk.attendance.panels', component: () => import('./AttendancePanel.vue') }],
};
